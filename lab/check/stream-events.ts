import type { StreamEventLog, TurnRecord, TurnStream } from "../load/records.ts";
import type { StreamTotals } from "./types.ts";
import { describeWorker } from "./wording.ts";

/** What the stream detectors share: which events a streamed turn's client got, and from where. */

/** One event as received, and over which response: 0 the first, n the n-th resume. */
export interface ReceivedEvent extends StreamEventLog {
  via: number;
}

/** Every event the client got for one stream, in arrival order: the first response, then each resume. */
export function receivedEvents(stream: TurnStream): ReceivedEvent[] {
  return [
    ...stream.events.map((event) => ({ ...event, via: 0 })),
    ...stream.resumes.flatMap((resume, i) =>
      resume.events.map((event) => ({ ...event, via: i + 1 })),
    ),
  ];
}

/** The streams a detector judges: not those the run's own stop cut (they prove nothing). */
export function judgedStreams(turn: TurnRecord): TurnStream[] {
  return (turn.streams ?? []).filter(
    (stream) =>
      stream.cut !== "run-stopped" && stream.resumes.every((r) => r.cut !== "run-stopped"),
  );
}

/** "the first response from worker 1 (pid 10)" or "its resume 1 on worker 2 (pid 11), Last-Event-ID 2". */
export function describeVia(stream: TurnStream, via: number): string {
  if (via === 0) return `the first response from ${describeWorker(stream.producer)}`;
  const resume = stream.resumes[via - 1];
  const which = stream.resumes.length > 1 ? `its resume ${via}` : "its resume";
  return `${which} on ${describeWorker(resume?.worker)} (Last-Event-ID ${resume?.lastEventId})`;
}

/** Whole numbers as ranges: [1, 2, 3, 5] -> "1-3, 5". */
export function idRanges(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i] as number;
    while (sorted[i + 1] === (sorted[i] as number) + 1) i++;
    const end = sorted[i] as number;
    ranges.push(start === end ? String(start) : `${start}-${end}`);
  }
  return ranges.join(", ");
}

/** The run's streamed turns, dropped streams and resumes, as the report counts them. */
export function streamTotals(turns: readonly TurnRecord[]): StreamTotals {
  const streams = turns.flatMap((turn) => turn.streams ?? []);
  const resumes = streams.flatMap((stream) => stream.resumes);
  return {
    streamedTurns: turns.filter((turn) => (turn.streams?.length ?? 0) > 0).length,
    streamsDropped: streams.filter((stream) => stream.droppedAfter !== undefined).length,
    resumes: resumes.length,
    resumesCrossedWorkers: resumes.filter((resume) => resume.crossedWorkers).length,
  };
}
