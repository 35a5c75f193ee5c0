import type { ServedBy } from "../../service/contract.ts";
import type { TurnRecord } from "../load/records.ts";

/** Phrasing shared by the detail sentences and reasons, so they all name things alike. */

export function turnLabel(turn: TurnRecord): string {
  return `turn ${turn.index + 1} (${turn.turnId})`;
}

export function describeWorker(servedBy: Pick<ServedBy, "workerId" | "pid"> | undefined): string {
  return servedBy === undefined
    ? "an unidentified worker"
    : `worker ${servedBy.workerId} (pid ${servedBy.pid})`;
}

export function plural(count: number, noun: string): string {
  if (count === 1) return noun;
  // reply -> replies, but day -> days.
  return /[^aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}ies` : `${noun}s`;
}
