import type { TurnRecord } from "../../lab/load/records.ts";
import type { ServedBy } from "../../service/contract.ts";

/** Where a variant keeps state: one place per worker process, or one per host. */
export type PlaceOf = (servedBy: ServedBy) => string;

/** Each worker process its own place (history in memory, a directory per worker). */
export const worker: PlaceOf = (s) => `${s.hostname}:${s.pid}`;
/** Each host its own place (a disk per machine, shared by that machine's workers). */
export const host: PlaceOf = (s) => s.hostname;

/**
 * Every conversation's acknowledged turns, in script order; with `streamed`, also the turns
 * whose stream names its producer although they were never acknowledged.
 */
function byConversation(turns: readonly TurnRecord[], streamed = false): TurnRecord[][] {
  const conversations = new Map<string, TurnRecord[]>();
  for (const turn of turns) {
    if (turn.outcome !== "ok" && !(streamed && producerOf(turn))) continue;
    const list = conversations.get(turn.conversationId) ?? [];
    list.push(turn);
    conversations.set(turn.conversationId, list);
  }
  return [...conversations.values()].map((list) => list.sort((a, b) => a.index - b.index));
}

function producerOf(turn: TurnRecord): ServedBy | undefined {
  return turn.streams?.at(-1)?.producer;
}

function placeOfTurn(turn: TurnRecord, placeOf: PlaceOf): string {
  const worker = turn.servedBy ?? producerOf(turn);
  if (!worker) throw new Error(`acknowledged turn ${turn.turnId} names no worker`);
  return placeOf(worker);
}

/**
 * Turns after a conversation's first that were served at a different place than the
 * conversation's previous turn: what the load test's scheduler makes of every one. The turns
 * that ran on a known worker: acknowledged, or streamed (the worker producing a stream that
 * never reached its client whole, and that the client then found stored).
 */
export function hops(turns: readonly TurnRecord[], placeOf: PlaceOf = worker): number {
  let count = 0;
  for (const list of byConversation(turns, true)) {
    for (let i = 1; i < list.length; i++) {
      const previous = list[i - 1] as TurnRecord;
      if (placeOfTurn(list[i] as TurnRecord, placeOf) !== placeOfTurn(previous, placeOf)) count++;
    }
  }
  return count;
}

/**
 * Acknowledged turns served at a place that had not served every earlier turn of their
 * conversation: with state kept per place, exactly the turns answered from a stale history.
 */
export function turnsMissingEarlierState(
  turns: readonly TurnRecord[],
  placeOf: PlaceOf = worker,
): number {
  let count = 0;
  for (const list of byConversation(turns)) {
    const places = list.map((turn) => placeOfTurn(turn, placeOf));
    places.forEach((place, i) => {
      if (places.slice(0, i).some((earlier) => earlier !== place)) count++;
    });
  }
  return count;
}
