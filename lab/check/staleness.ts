import type { TurnRecord } from "../load/records.ts";
import { acknowledgedBefore, messagesBasedOn } from "./based-on.ts";
import {
  type ConversationContext,
  messageKey,
  type ReadView,
  turnAnomaly,
} from "./conversation-context.ts";
import type { Anomaly } from "./types.ts";
import { plural } from "./wording.ts";

/**
 * Acknowledged turns whose agent saw less history than the client had seen acknowledged
 * before sending: 2 messages per earlier acknowledged turn, plus the turn's own user message.
 * Turns sent while an earlier one was still in flight are not required to see it.
 */
export function findStale(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.okTurns) {
    const seen = messagesBasedOn(turn);
    if (seen === undefined) continue; // nothing to check against
    const acknowledged = acknowledgedBefore(ctx.okTurns, turn);
    const expected = 2 * acknowledged + 1;
    if (seen >= expected) continue;

    anomalies.push(
      turnAnomaly(
        ctx,
        "stale",
        turn,
        `turn ${turn.index + 1} was answered from ${seen} ${plural(seen, "message")} but ${2 * acknowledged} were acknowledged before it was sent (it should have seen at least ${expected}, counting its own)`,
      ),
    );
  }
  return anomalies;
}

/**
 * Acknowledged turns answered from fewer messages than are stored before their user message
 * in a successful read (plus the user message itself): the reply was generated without some
 * of the history it now follows, as when two overlapping turns read the same history.
 * Unlike `stale`, this judges the final stored order, not what the client saw acknowledged.
 * Reads holding the user message other than exactly once are skipped (`lost`, `duplicated`);
 * a message repeated before it counts once (`duplicated`), and the turn's own reply is not
 * counted if it was stored first (`out-of-order`).
 */
export function findStaleContext(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.okTurns) {
    const seen = messagesBasedOn(turn);
    if (seen === undefined) continue; // nothing to check against
    const detail = firstStaleContext(turn, seen, ctx.okReads);
    if (detail !== undefined) anomalies.push(turnAnomaly(ctx, "stale-context", turn, detail));
  }
  return anomalies;
}

function firstStaleContext(
  turn: TurnRecord,
  messagesSeen: number,
  reads: ReadView[],
): string | undefined {
  const userKey = messageKey(turn.turnId, "user");
  for (const view of reads) {
    if (view.occurrences.get(userKey) !== 1) continue;
    const position = view.firstAt.get(userKey) as number;
    // Other turns' messages, each counted once: a repeat is `duplicated`, not missing context.
    const storedBefore = new Set(
      view.read.messages
        .slice(0, position)
        .filter((message) => message.turnId !== turn.turnId)
        .map((message) => messageKey(message.turnId, message.role)),
    ).size;
    if (messagesSeen >= storedBefore + 1) continue;

    return `turn ${turn.index + 1} (${turn.turnId}) was answered from ${messagesSeen} ${plural(messagesSeen, "message")} but its user message is at position ${position} (0-based) in the final read served by ${view.worker}, after ${storedBefore} stored ${plural(storedBefore, "message")} (it should have seen at least ${storedBefore + 1}, counting its own)`;
  }
  return undefined;
}
