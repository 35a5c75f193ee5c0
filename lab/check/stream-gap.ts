import type { StreamResume, TurnRecord, TurnStream } from "../load/records.ts";
import { type ConversationContext, turnAnomaly } from "./conversation-context.ts";
import { describeVia, idRanges, judgedStreams, receivedEvents } from "./stream-events.ts";
import type { Anomaly } from "./types.ts";
import { describeWorker, turnLabel } from "./wording.ts";

/**
 * Streamed turns whose events the client did not get whole: the ids it got over the first
 * response and every resume are not exactly 1..k, or the stream never reached its done or
 * error event (a resume refused, or ended early). One per turn.
 */
export function findStreamGaps(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.turns) {
    for (const stream of judgedStreams(turn)) {
      const detail = gapDetail(turn, stream);
      if (detail === undefined) continue;
      anomalies.push(turnAnomaly(ctx, "stream-gap", turn, detail));
      break;
    }
  }
  return anomalies;
}

function gapDetail(turn: TurnRecord, stream: TurnStream): string | undefined {
  const events = receivedEvents(stream);
  const ids = events.map((event) => event.id);
  const where = `${turnLabel(turn)}, streamed by ${describeWorker(stream.producer)}`;
  const unnamed = events.find((event) => event.id === 0);
  if (unnamed)
    return `${where}: an event came without a valid id over ${describeVia(stream, unnamed.via)}`;
  const missing = missingIds(ids);
  if (missing.length > 0) {
    return `${where}: the client got event ids ${idRanges(ids)} but never ${idRanges(missing)}`;
  }
  if (stream.done || stream.error) return undefined;
  return `${where}: ${howItStopped(stream, ids)}`;
}

/** The ids below the highest one received that never arrived. */
function missingIds(ids: readonly number[]): number[] {
  const got = new Set(ids);
  const highest = Math.max(0, ...ids);
  return Array.from({ length: highest }, (_, i) => i + 1).filter((id) => !got.has(id));
}

/** Why a stream without a hole still never reached done or error. */
function howItStopped(stream: TurnStream, ids: readonly number[]): string {
  const got = ids.length === 0 ? "no event" : `events ${idRanges(ids)}`;
  const cut = cutWords(stream);
  const resume = stream.resumes.at(-1);
  if (!resume)
    return `the client got ${got}, then ${cut}, and the stream never reached done or error`;
  return `the client got ${got}, then ${cut}; ${resumeWords(resume)}, so it never got done or error`;
}

function cutWords(stream: TurnStream): string {
  switch (stream.cut) {
    case "dropped":
      return `dropped the connection after ${stream.droppedAfter} ${stream.droppedAfter === 1 ? "delta" : "deltas"}`;
    case "timeout":
      return "waited in vain for the next event";
    case "ended-early":
      return "the response ended";
    default:
      return "the connection was lost";
  }
}

function resumeWords(resume: StreamResume): string {
  const sent = `its resume with Last-Event-ID ${resume.lastEventId}`;
  if (resume.status === undefined) return `${sent} got no answer`;
  const on = `${sent} on ${describeWorker(resume.worker)}`;
  if (resume.status !== 200) {
    return `${on} was answered ${resume.status}${resume.code ? ` ${resume.code}` : ""}`;
  }
  const last = resume.events.at(-1)?.id;
  return `${on} ended ${last === undefined ? "before any event" : `after event ${last}`}`;
}
