import type { ServedBy } from "../../service/contract.ts";
import type { TurnRecord } from "../load/records.ts";

/** Phrasing shared by the detail sentences and reasons, so they all name things alike. */

export function turnLabel(turn: TurnRecord): string {
  return `turn ${turn.index + 1} (${turn.turnId})`;
}

export function describeWorker(servedBy: ServedBy | undefined): string {
  return servedBy === undefined
    ? "an unidentified worker"
    : `worker ${servedBy.workerId} (pid ${servedBy.pid})`;
}

export function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`;
}
