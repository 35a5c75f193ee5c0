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

/** The client saw `earlier` acknowledged before it sent `later`. */
export function acknowledgedBeforeSent(earlier: TurnRecord, later: TurnRecord): boolean {
  return (
    earlier.outcome === "ok" &&
    earlier.answeredAt !== undefined &&
    earlier.answeredAt <= later.sentAt
  );
}

/** How many other turns of `turn`'s conversation the client saw acknowledged before sending it. */
export function acknowledgedBefore(turns: readonly TurnRecord[], turn: TurnRecord): number {
  return turns.filter((other) => other !== turn && acknowledgedBeforeSent(other, turn)).length;
}
