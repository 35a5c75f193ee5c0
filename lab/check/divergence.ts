import { type ConversationContext, messageKey } from "./conversation-context.ts";
import type { Anomaly } from "./types.ts";
import { plural } from "./wording.ts";

/** A conversation whose successful reads do not all return the same sequence of messages. */
export function findDivergent(ctx: ConversationContext): Anomaly[] {
  // Group reads by their exact message sequence; one group means they all agree.
  const variants = new Map<string, { length: number; workers: string[] }>();
  for (const view of ctx.okReads) {
    const keys = view.read.messages.map((message) => messageKey(message.turnId, message.role));
    const signature = JSON.stringify(keys);
    const variant = variants.get(signature) ?? { length: keys.length, workers: [] };
    variant.workers.push(view.worker);
    variants.set(signature, variant);
  }
  if (variants.size <= 1) return [];

  const described = [...variants.values()]
    .map((v) => `${v.workers.join(" and ")} returned ${v.length} ${plural(v.length, "message")}`)
    .join("; ");
  return [
    {
      kind: "divergent",
      conversationId: ctx.conversationId,
      detail: `the ${ctx.okReads.length} successful final reads disagree: ${described}`,
    },
  ];
}
