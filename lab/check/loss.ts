import type { Role } from "../../service/contract.ts";
import {
  type ConversationContext,
  messageKey,
  ROLES,
  turnAnomaly,
} from "./conversation-context.ts";
import type { Anomaly } from "./types.ts";
import { turnLabel } from "./wording.ts";

/** Acknowledged turns with a message missing from at least one successful read. */
export function findLost(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.okTurns) {
    const missingRoles = new Set<Role>();
    const missingFrom = ctx.okReads.filter((view) => {
      const absent = ROLES.filter((role) => !view.firstAt.has(messageKey(turn.turnId, role)));
      for (const role of absent) missingRoles.add(role);
      return absent.length > 0;
    });
    if (missingFrom.length === 0) continue;

    const what =
      missingRoles.size === ROLES.length
        ? "its messages are"
        : `its ${[...missingRoles].join(" and ")} message is`;
    const workers = missingFrom.map((view) => view.worker).join(", ");
    anomalies.push(
      turnAnomaly(
        ctx,
        "lost",
        turn,
        `${turnLabel(turn)} was acknowledged but ${what} missing from ${missingFrom.length} of ${ctx.okReads.length} successful final reads (served by ${workers})`,
      ),
    );
  }
  return anomalies;
}
