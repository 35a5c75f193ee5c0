import type { TurnRecord, TurnStream } from "../load/records.ts";
import { type ConversationContext, type ReadView, turnAnomaly } from "./conversation-context.ts";
import { judgedStreams, receivedEvents } from "./stream-events.ts";
import type { Anomaly } from "./types.ts";
import { turnLabel } from "./wording.ts";

/**
 * Streamed turns whose text does not hold together: the deltas, joined in the order they
 * arrived, are not done's reply (judged only for a stream that came whole, once each: a gap
 * or a repeat is already stream-gap or stream-duplicate), or done's reply is not the assistant
 * message stored for the turn in a successful final read. One per turn.
 */
export function findStreamMismatches(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.turns) {
    for (const stream of judgedStreams(turn)) {
      const detail = deltasDetail(turn, stream) ?? storedDetail(turn, stream, ctx.okReads);
      if (detail === undefined) continue;
      anomalies.push(turnAnomaly(ctx, "stream-mismatch", turn, detail));
      break;
    }
  }
  return anomalies;
}

function deltasDetail(turn: TurnRecord, stream: TurnStream): string | undefined {
  const reply = stream.done?.reply;
  if (reply === undefined || !cameWhole(stream)) return undefined;
  const deltas = receivedEvents(stream).filter((event) => event.type === "delta");
  const joined = deltas.map((event) => event.text ?? "").join("");
  if (joined === reply) return undefined;
  return `${turnLabel(turn)}: its ${deltas.length} deltas, joined, differ from done's reply ${difference(joined, reply)}`;
}

function storedDetail(turn: TurnRecord, stream: TurnStream, reads: ReadView[]): string | undefined {
  const reply = stream.done?.reply;
  if (reply === undefined) return undefined;
  for (const view of reads) {
    const stored = view.read.messages.find(
      (message) => message.turnId === turn.turnId && message.role === "assistant",
    );
    // Not stored at all is `lost` (when acknowledged), not a different text.
    if (stored === undefined || stored.content === reply) continue;
    return `${turnLabel(turn)}: done's reply differs from the assistant message stored for it in the final read served by ${view.worker} ${difference(reply, stored.content)}`;
  }
  return undefined;
}

/** Every id 1..k exactly once (in whatever order): the deltas are all there is to join. */
function cameWhole(stream: TurnStream): boolean {
  const ids = receivedEvents(stream)
    .map((event) => event.id)
    .sort((a, b) => a - b);
  return ids.every((id, i) => id === i + 1);
}

/** Where two texts part: `from character 12 on ("blue." vs "teal.")`. */
function difference(a: string, b: string): string {
  let at = 0;
  while (at < a.length && at < b.length && a[at] === b[at]) at++;
  const excerpt = (text: string) => JSON.stringify(text.slice(at, at + 24));
  return `from character ${at + 1} on (${excerpt(a)} vs ${excerpt(b)})`;
}
