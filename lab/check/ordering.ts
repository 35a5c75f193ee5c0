import type { ChatMessage } from "../../service/contract.ts";
import type { TurnRecord } from "../load/records.ts";
import { acknowledgedBeforeSent } from "./based-on.ts";
import {
  type ConversationContext,
  messageKey,
  type ReadView,
  turnAnomaly,
} from "./conversation-context.ts";
import type { Anomaly } from "./types.ts";
import { plural, turnLabel } from "./wording.ts";

/**
 * Turns stored in an order the client could not have produced: after a turn it saw
 * acknowledged only later, or with the reply stored before the question.
 */
export function findOutOfOrder(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.turns) {
    const detail = firstOrderViolation(turn, ctx);
    if (detail !== undefined) anomalies.push(turnAnomaly(ctx, "out-of-order", turn, detail));
  }
  return anomalies;
}

function firstOrderViolation(later: TurnRecord, ctx: ConversationContext): string | undefined {
  for (const view of ctx.okReads) {
    if (replyBeforeQuestion(later, view)) {
      return `${turnLabel(later)}'s assistant message is stored before its user message in the final read served by ${view.worker}`;
    }
    const userAt = view.firstAt.get(messageKey(later.turnId, "user"));
    if (userAt === undefined) continue;

    // Only turns the client saw acknowledged before sending `later` impose an order on it.
    const earlier = ctx.okTurns.find((candidate) => {
      if (candidate === later || !acknowledgedBeforeSent(candidate, later)) return false;
      const candidateAt = view.firstAt.get(messageKey(candidate.turnId, "user"));
      return candidateAt !== undefined && candidateAt > userAt;
    });
    if (earlier !== undefined) {
      return `${turnLabel(later)} is stored before turn ${earlier.index + 1} in the final read served by ${view.worker}, although turn ${earlier.index + 1} was acknowledged before it was sent`;
    }
  }
  return undefined;
}

/** The turn's reply is stored before its question in this read (first occurrences). */
function replyBeforeQuestion(turn: TurnRecord, view: ReadView): boolean {
  const userAt = view.firstAt.get(messageKey(turn.turnId, "user"));
  const assistantAt = view.firstAt.get(messageKey(turn.turnId, "assistant"));
  return userAt !== undefined && assistantAt !== undefined && assistantAt < userAt;
}

/**
 * Turns whose question and reply are not adjacent in a successful read: another message sits
 * between the user message and its own assistant message (user A, user B, assistant A, ...).
 * Only a turn stored exactly once with both messages, question first, can be interleaved:
 * a missing message is `lost`, a repeated one `duplicated`, a reply before its question
 * `out-of-order` (in any read, so it is never counted twice), and rejected turns `unexpected`.
 */
export function findInterleaved(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.turns) {
    if (turn.outcome === "failed") continue;
    if (ctx.okReads.some((view) => replyBeforeQuestion(turn, view))) continue;
    const detail = firstInterleaving(turn, ctx);
    if (detail !== undefined) anomalies.push(turnAnomaly(ctx, "interleaved", turn, detail));
  }
  return anomalies;
}

function firstInterleaving(turn: TurnRecord, ctx: ConversationContext): string | undefined {
  const userKey = messageKey(turn.turnId, "user");
  const assistantKey = messageKey(turn.turnId, "assistant");
  for (const view of ctx.okReads) {
    if (view.occurrences.get(userKey) !== 1 || view.occurrences.get(assistantKey) !== 1) continue;
    const userAt = view.firstAt.get(userKey) as number;
    const assistantAt = view.firstAt.get(assistantKey) as number;
    if (assistantAt <= userAt + 1) continue; // adjacent (or reversed: out-of-order)

    const between = view.read.messages.slice(userAt + 1, assistantAt);
    const [first] = between as [ChatMessage, ...ChatMessage[]];
    const owner = ctx.turnsById.get(first.turnId);
    const firstDescribed =
      owner === undefined
        ? `a ${first.role} message with turnId ${first.turnId}`
        : `turn ${owner.index + 1}'s ${first.role} message`;
    return `${turnLabel(turn)}'s user message is not directly followed by its reply in the final read served by ${view.worker}: ${between.length} other ${plural(between.length, "message")} ${between.length === 1 ? "sits" : "sit"} between them, starting with ${firstDescribed}`;
  }
  return undefined;
}
