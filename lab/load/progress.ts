import ProgressBar from "progress";

export interface TurnProgress {
  tick(): void;
  stop(): void;
}

/** A progress bar over turns answered (not seconds), on stderr; a no-op when not a terminal. */
export function turnProgress(total: number, enabled: boolean): TurnProgress {
  if (!enabled || total === 0) return { tick() {}, stop() {} };
  const bar = new ProgressBar("  turns [:bar] :current/:total :rate/s :etas ", {
    total,
    width: 30,
    stream: process.stderr,
    clear: true,
  });
  return {
    tick: () => bar.tick(),
    stop: () => bar.terminate(),
  };
}
