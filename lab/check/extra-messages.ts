import type { ChatMessage } from "../../service/contract.ts";
import type { TurnRecord } from "../load/records.ts";
import {
  type ConversationContext,
  messageKey,
  type ReadView,
  ROLES,
  turnAnomaly,
} from "./conversation-context.ts";
import type { Anomaly } from "./types.ts";
import { turnLabel } from "./wording.ts";

/** Turns with a message stored more than once in a single successful read. */
export function findDuplicated(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.turns) {
    const detail = firstDuplicate(turn, ctx.okReads);
    if (detail !== undefined) anomalies.push(turnAnomaly(ctx, "duplicated", turn, detail));
  }
  return anomalies;
}

function firstDuplicate(turn: TurnRecord, reads: ReadView[]): string | undefined {
  for (const view of reads) {
    for (const role of ROLES) {
      const count = view.occurrences.get(messageKey(turn.turnId, role)) ?? 0;
      if (count > 1) {
        return `${turnLabel(turn)}'s ${role} message appears ${count} times in the final read served by ${view.worker}`;
      }
    }
  }
  return undefined;
}

/**
 * Messages that should not exist: an unknown turnId, a user message whose text was altered,
 * or anything from a rejected turn. `unknown`-outcome turns may legitimately appear.
 * Counted once per (turnId, role), however many reads show it.
 */
export function findUnexpected(ctx: ConversationContext): Anomaly[] {
  const found = new Map<string, Anomaly>();
  for (const view of ctx.okReads) {
    for (const message of view.read.messages) {
      const key = messageKey(message.turnId, message.role);
      if (found.has(key)) continue;
      const detail = unexpectedDetail(message, ctx.turnsById.get(message.turnId), view.worker);
      if (detail === undefined) continue;
      found.set(key, {
        kind: "unexpected",
        conversationId: ctx.conversationId,
        turnId: message.turnId,
        detail,
      });
    }
  }
  return [...found.values()];
}

function unexpectedDetail(
  message: ChatMessage,
  turn: TurnRecord | undefined,
  worker: string,
): string | undefined {
  if (turn === undefined) {
    return `a ${message.role} message with turnId ${message.turnId}, which matches no turn the client sent, appears in the final read served by ${worker}`;
  }
  if (turn.outcome === "failed") {
    const status = turn.status === undefined ? "" : ` (status ${turn.status})`;
    return `turn ${turn.index + 1} was rejected${status} but its ${message.role} message appears in the final read served by ${worker}`;
  }
  if (message.role === "user" && message.content !== turn.text) {
    return `${turnLabel(turn)}'s user message in the final read served by ${worker} differs from the text the client sent`;
  }
  return undefined;
}
