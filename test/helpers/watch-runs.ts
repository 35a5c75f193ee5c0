import { readFileSync } from "node:fs";
import { type WatchOptions, watchAndRun } from "../../lab/learn/exercises/watch.ts";

/** How long a test waits for a run before it fails: generous, it is never a pause. */
const DEADLINE_MS = 15_000;

export interface RecordedRuns {
  /** What the file held when each run started, in order. */
  readonly contents: string[];
  /** `start N` and `end N` for each run, in the order they happened. */
  readonly log: string[];
  /** The most runs that were ever going at once. */
  readonly maxActive: number;
  /** Resolves once `count` runs have started; rejects after a generous deadline. */
  started(count: number): Promise<void>;
  /** Resolves once `count` runs have ended; rejects after a generous deadline. */
  ended(count: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * watchAndRun on `file` with a run that records itself, so a test waits on the runs
 * themselves instead of sleeping. `hold(n)` may return a promise that keeps run `n` going
 * until the test settles it.
 */
export function recordRuns(
  file: string,
  options: WatchOptions,
  hold: (run: number) => Promise<void> | undefined = () => undefined,
): RecordedRuns {
  const contents: string[] = [];
  const log: string[] = [];
  let active = 0;
  let maxActive = 0;
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const check of [...waiters]) check();
  };

  const until = (what: string, done: () => boolean) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${what} within ${DEADLINE_MS} ms; runs so far: ${log.join(", ")}`));
      }, DEADLINE_MS);
      waiters.add(check);
      check();
    });
  const count = (event: "start" | "end") => log.filter((e) => e.startsWith(event)).length;

  const watcher = watchAndRun(
    file,
    async () => {
      const run = contents.length + 1;
      active++;
      maxActive = Math.max(maxActive, active);
      contents.push(readFileSync(file, "utf8"));
      log.push(`start ${run}`);
      changed();
      try {
        await hold(run);
      } finally {
        active--;
        log.push(`end ${run}`);
        changed();
      }
    },
    options,
  );

  return {
    contents,
    log,
    get maxActive() {
      return maxActive;
    },
    started: (n) => until(`start of run ${n}`, () => count("start") >= n),
    ended: (n) => until(`end of run ${n}`, () => count("end") >= n),
    stop: () => watcher.stop(),
  };
}

/** Lets every timer already due fire (the rest of this turn of the event loop). */
export function afterDueTimers(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
