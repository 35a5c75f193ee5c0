import type { CheckResult } from "../check/types.ts";
import type { AttemptAnswerLog, FinalRead, TurnRecord, TurnStream } from "../load/records.ts";
import type { FaultEvent } from "./faults.ts";

/** What a worker's death did to the replies it was streaming, and what each client then got. */
export interface StreamCuts {
  /** Streams the kill cut part-way through: the killed worker was producing them. */
  cut: number;
  /** The turns those streams were answering (one stream each, unless a resend was cut too). */
  turns: number;
  /** Of those, resumed (Last-Event-ID) on another worker than the killed one. */
  resumedElsewhere: number;
  /** How each cut stream ended after its resume: "turn_interrupted", "done", "HTTP 404 not_found", ... */
  ends: Record<string, number>;
  /** From the kill to each `turn_interrupted` reaching its client, in ms: fastest and slowest. */
  interruptedAfterMs?: { min: number; max: number };
  /** Cut turns sent again with their turnId. */
  resent: number;
  /** Cut turns acknowledged in the end (a done event, after a resend or on the resume). */
  acknowledged: number;
  /** Cut turns stored exactly once (their user and their assistant message) in every final read. */
  storedOnce: number;
  /** Cut turns the checker flagged stream-gap: the client never got their reply whole. */
  streamGaps: number;
}

/** The stream error events the load received (status 200, a code), with when each came. */
export type StreamErrorAnswers = readonly AttemptAnswerLog[];

/**
 * The streams the fault's victim was producing when it died, from the load's records: each
 * one's resume and end, then its turn's fate (resent, acknowledged, stored once, or a gap the
 * checker caught). Undefined when the fault never struck; none cut when it killed no one.
 */
export function measureStreamCuts(
  turns: readonly TurnRecord[],
  reads: readonly FinalRead[],
  check: CheckResult,
  event: FaultEvent | undefined,
  streamErrors: StreamErrorAnswers,
): StreamCuts | undefined {
  if (event === undefined) return undefined;
  const victim = event.victimPid;
  const cuts = turns.flatMap((turn) =>
    (turn.streams ?? []).filter((s) => cutBy(s, victim)).map((stream) => ({ turn, stream })),
  );
  const cutTurns = [...new Set(cuts.map((c) => c.turn))];
  const gaps = new Set(check.anomalies.filter((a) => a.kind === "stream-gap").map((a) => a.turnId));
  const interrupted = streamErrors
    .filter((a) => a.code === "turn_interrupted" && cutTurns.some((t) => t.turnId === a.turnId))
    .map((a) => a.answeredAt - event.startedAt);
  return {
    cut: cuts.length,
    turns: cutTurns.length,
    resumedElsewhere: cuts.filter(({ stream }) => stream.resumes.some((r) => r.crossedWorkers))
      .length,
    ends: countBy(cuts.map(({ stream }) => endOf(stream))),
    interruptedAfterMs:
      interrupted.length > 0
        ? { min: Math.min(...interrupted), max: Math.max(...interrupted) }
        : undefined,
    resent: cutTurns.filter((turn) => resentAfterCut(turn, victim)).length,
    acknowledged: cutTurns.filter((turn) => turn.outcome === "ok").length,
    storedOnce: cutTurns.filter((turn) => storedOnce(turn, reads)).length,
    streamGaps: cutTurns.filter((turn) => gaps.has(turn.turnId)).length,
  };
}

/** A stream the victim was producing whose first response broke off (not the run's own stop). */
function cutBy(stream: TurnStream, victimPid: number | undefined): boolean {
  const broken =
    stream.cut !== undefined && stream.cut !== "run-stopped" && stream.cut !== "dropped";
  return broken && victimPid !== undefined && stream.producer?.pid === victimPid;
}

/** "turn_interrupted", "done", "HTTP 404 not_found", "no answer", ... */
function endOf(stream: TurnStream): string {
  const resume = stream.resumes.at(-1);
  if (!resume) return "not resumed";
  if (resume.status === undefined) return "no answer";
  if (resume.status !== 200) return `HTTP ${resume.status}${resume.code ? ` ${resume.code}` : ""}`;
  if (stream.error) return stream.error.code ?? "error";
  return stream.done ? "done" : "ended without done or error";
}

/** Sent again after its cut attempt: a later attempt exists (streamed, or refused first). */
function resentAfterCut(turn: TurnRecord, victimPid: number | undefined): boolean {
  const cutAttempt = (turn.streams ?? []).find((s) => cutBy(s, victimPid))?.attempt ?? 0;
  return (turn.attempts ?? 1) > cutAttempt + 1;
}

/** In every successful read of its conversation (one at least), its two messages, once each. */
function storedOnce(turn: TurnRecord, reads: readonly FinalRead[]): boolean {
  const ok = reads.filter((r) => r.ok && r.conversationId === turn.conversationId);
  return (
    ok.length > 0 &&
    ok.every((read) => {
      const own = read.messages.filter((m) => m.turnId === turn.turnId);
      return (
        own.length === 2 &&
        own.some((m) => m.role === "user") &&
        own.some((m) => m.role === "assistant")
      );
    })
  );
}

/** How many times each label occurs: { "HTTP 404 not_found": 4 }. */
export function countBy(labels: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const label of labels) counts[label] = (counts[label] ?? 0) + 1;
  return counts;
}
