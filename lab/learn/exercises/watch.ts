import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";

export interface WatchOptions {
  /** Quiet period after the last change before a run starts. */
  debounceMs?: number;
  /** Called when `run` throws; the watch goes on. */
  onError?: (error: unknown) => void;
}

export interface Watcher {
  /** Stops watching; resolves once a run in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Runs `run` now and again whenever `file` changes, `debounceMs` after the last change.
 * Never two runs at once: a change during a run schedules one more run after it.
 * Watches the folder, not the file, so editors that save by replacing the file are seen.
 */
export function watchAndRun(
  file: string,
  run: () => Promise<void>,
  { debounceMs = 300, onError = () => {} }: WatchOptions = {},
): Watcher {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const trigger = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await run();
        } catch (error) {
          onError(error);
        }
      } while (again && !stopped);
      running = undefined;
    })();
  };

  const watcher: FSWatcher = watch(dirname(file), (_event, name) => {
    if (name && name !== basename(file)) return;
    clearTimeout(timer);
    timer = setTimeout(trigger, debounceMs);
  });
  trigger();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      watcher.close();
      await running;
    },
  };
}
