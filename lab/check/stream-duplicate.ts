import type { TurnRecord, TurnStream } from "../load/records.ts";
import { type ConversationContext, turnAnomaly } from "./conversation-context.ts";
import { describeVia, idRanges, judgedStreams, receivedEvents } from "./stream-events.ts";
import type { Anomaly } from "./types.ts";
import { turnLabel } from "./wording.ts";

/** Streamed turns of which the client got an event id more than once. One per turn. */
export function findStreamDuplicates(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.turns) {
    for (const stream of judgedStreams(turn)) {
      const detail = duplicateDetail(turn, stream);
      if (detail === undefined) continue;
      anomalies.push(turnAnomaly(ctx, "stream-duplicate", turn, detail));
      break;
    }
  }
  return anomalies;
}

function duplicateDetail(turn: TurnRecord, stream: TurnStream): string | undefined {
  const firstVia = new Map<number, number>();
  const repeated: { id: number; first: number; again: number }[] = [];
  for (const event of receivedEvents(stream)) {
    if (event.id === 0) continue; // no id to repeat: stream-gap names it
    const first = firstVia.get(event.id);
    if (first === undefined) firstVia.set(event.id, event.via);
    else repeated.push({ id: event.id, first, again: event.via });
  }
  const [one] = repeated;
  if (!one) return undefined;
  const ids = repeated.map((r) => r.id);
  const what =
    ids.length === 1 ? `event ${one.id} twice` : `events ${idRanges(ids)} more than once`;
  return `${turnLabel(turn)}: the client got ${what}: event ${one.id} over ${describeVia(stream, one.first)} and again over ${describeVia(stream, one.again)}`;
}
