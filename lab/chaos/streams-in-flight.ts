import type { StreamWatch } from "../load/stream-turn.ts";

/**
 * Deltas a reply may have brought and still count as part-way through. The scripted model's
 * shortest reply has 16 words, sent one by one, so 12 or more are still to come: its turn is
 * far from stored when the worker is killed in the same tick.
 */
export const MID_REPLY_MAX_DELTAS = 4;

/** A worker every one of whose streamed attempts in flight is part-way through its reply. */
export interface MidReplyWorker {
  pid: number;
  /** Its attempts in flight, all mid-reply. */
  streams: number;
  /** The deltas they had brought, fewest-most: "1-3". */
  deltas: string;
}

interface Attempt {
  /** The worker the attempt went to (see workerKey: "hostname:pid"). */
  worker: string | undefined;
  deltas: number;
}

/**
 * The load's streamed attempts in flight, by the worker each went to, as the load tells them
 * (StreamWatch): which worker could be killed with every reply it streams cut part-way through.
 * An attempt sent but still without a delta rules its worker out: its stream may not hold an
 * event yet (or its answer may still be on the wire), so what the kill does to it is unclear.
 */
export class StreamsInFlight implements StreamWatch {
  // Private (#) so the load's options, written to --json, do not carry it.
  readonly #attempts = new Map<string, Attempt>();

  sent(turnId: string, worker: string | undefined): void {
    this.#attempts.set(turnId, { worker, deltas: 0 });
  }

  delta(turnId: string, deltas: number): void {
    const attempt = this.#attempts.get(turnId);
    if (attempt) attempt.deltas = deltas;
  }

  settled(turnId: string): void {
    this.#attempts.delete(turnId);
  }

  /** The worker with the most attempts in flight, all of them mid-reply; undefined if none. */
  midReplyWorker(): MidReplyWorker | undefined {
    const byWorker = new Map<string, number[]>();
    for (const { worker, deltas } of this.#attempts.values()) {
      // An attempt on a connection whose worker is unknown could be on any of them.
      if (worker === undefined) return undefined;
      byWorker.set(worker, [...(byWorker.get(worker) ?? []), deltas]);
    }
    let best: MidReplyWorker | undefined;
    for (const [worker, deltas] of byWorker) {
      if (!deltas.every((n) => n >= 1 && n <= MID_REPLY_MAX_DELTAS)) continue;
      if (best && best.streams >= deltas.length) continue;
      best = { pid: pidOf(worker), streams: deltas.length, deltas: range(deltas) };
    }
    return best;
  }
}

/** "2" or "1-3". */
function range(values: readonly number[]): string {
  const [min, max] = [Math.min(...values), Math.max(...values)];
  return min === max ? String(min) : `${min}-${max}`;
}

/** The pid in a workerKey ("hostname:pid"; a hostname may hold colons, the pid does not). */
function pidOf(worker: string): number {
  return Number(worker.slice(worker.lastIndexOf(":") + 1));
}
