import type { TurnRecord } from "../load/records.ts";

/**
 * How many messages the turn was based on, counting its own user message. With a bounded
 * context window the agent is given fewer than the history holds, so `historyLength` (the
 * whole history the turn read) is what shows a stale read; `messagesSeen` is the fallback.
 */
export function messagesBasedOn(turn: TurnRecord): number | undefined {
  if (turn.historyLength !== undefined) return turn.historyLength + 1;
  return turn.messagesSeen;
}

/** Turns of the same conversation the client saw acknowledged before it sent `sentAt`'s turn. */
export function acknowledgedBefore(turns: readonly TurnRecord[], sentAt: number): number {
  return turns.filter(
    (t) => t.outcome === "ok" && (t.answeredAt ?? Number.POSITIVE_INFINITY) <= sentAt,
  ).length;
}
