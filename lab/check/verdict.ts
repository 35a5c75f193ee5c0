import type { RunRecord } from "../load/records.ts";
import type { AnomalyCounts, CheckTotals, ConversationCheck, Verdict } from "./types.ts";
import { plural } from "./wording.ts";

/** One sentence per anomaly kind for the verdict's reasons, in the order they are reported. */
const INVALID_REASONS: Record<keyof AnomalyCounts, (count: number) => string> = {
  lost: (n) => `${n} acknowledged ${plural(n, "turn")} lost (missing from a final read)`,
  stale: (n) =>
    `${n} acknowledged ${plural(n, "turn")} answered from stale history (fewer messages than were acknowledged before ${n === 1 ? "it was" : "they were"} sent)`,
  duplicated: (n) => `${n} ${plural(n, "turn")} duplicated in a final read`,
  outOfOrder: (n) =>
    `${n} ${plural(n, "turn")} stored out of order (contradicting the order the client saw them acknowledged)`,
  interleaved: (n) =>
    `${n} ${plural(n, "turn")} interleaved (a user message not directly followed by its own reply)`,
  staleContext: (n) =>
    `${n} acknowledged ${plural(n, "turn")} answered without messages stored before ${n === 1 ? "it" : "them"} (stale context under overlap)`,
  unexpected: (n) =>
    `${n} unexpected ${plural(n, "message")} in final reads (never sent, altered, or from a rejected turn)`,
  divergent: (n) => `${n} ${plural(n, "conversation")} whose successful final reads disagree`,
  overLimit: (n) =>
    `${n} ${plural(n, "turn")} acknowledged over the user's turn limit (the limit did not hold across workers)`,
  streamGap: (n) =>
    `${n} streamed ${plural(n, "reply")} that never reached ${n === 1 ? "its client" : "their clients"} whole (an event missing, or no done or error after a resume)`,
  streamDuplicate: (n) => `${n} streamed ${plural(n, "reply")} with an event the client got twice`,
  streamMismatch: (n) =>
    `${n} streamed ${plural(n, "reply")} whose text differs between the deltas, done and the stored message`,
};

/** Anomalies make a run invalid; a clean run only passes if it could have caught the bug. */
export function decideVerdict(
  run: RunRecord,
  conversations: ConversationCheck[],
  totals: CheckTotals,
): { verdict: Verdict; reasons: string[] } {
  const invalid = (Object.keys(INVALID_REASONS) as (keyof AnomalyCounts)[])
    .filter((field) => totals[field] > 0)
    .map((field) => INVALID_REASONS[field](totals[field]));
  if (invalid.length > 0) return { verdict: "invalid", reasons: invalid };

  const unknown = inconclusiveReasons(run, conversations, totals);
  if (unknown.length > 0) return { verdict: "unknown", reasons: unknown };
  return { verdict: "valid", reasons: [] };
}

/** Why a run without anomalies still proves nothing; empty when it proves something. */
function inconclusiveReasons(
  run: RunRecord,
  conversations: ConversationCheck[],
  totals: CheckTotals,
): string[] {
  const reasons: string[] = [];
  const limit = run.turnLimitPerMinute;
  if (limit !== undefined && totals.turnsSent <= limit) {
    reasons.push(
      `only ${totals.turnsSent} ${plural(totals.turnsSent, "turn")} sent, no more than the limit of ${limit} a minute, so the limit was never tested`,
    );
  }
  if (totals.acknowledged === 0) {
    reasons.push("no turn was acknowledged, so there was no history the service had to keep");
  }
  if (totals.finalReadsOk === 0) {
    reasons.push("no final read succeeded, so no history could be checked");
  }
  // With nothing acknowledged, the worker count says nothing more.
  if (totals.acknowledged > 0 && run.workersExpected > 1 && totals.workersServingTurns < 2) {
    reasons.push(
      `the app ran ${run.workersExpected} workers but acknowledged turns were served by only ${totals.workersServingTurns}, so no conversation crossed workers and the test did not exercise the bug`,
    );
  }
  // Already covered above when no read succeeded at all.
  const unchecked = conversations.filter((c) => c.acknowledged > 0 && c.finalReadsOk === 0);
  if (totals.finalReadsOk > 0 && unchecked.length > 0) {
    reasons.push(
      `${unchecked.length} ${plural(unchecked.length, "conversation")} with acknowledged turns had no successful final read, so their turns could not be checked`,
    );
  }
  return [...reasons, ...streamReasons(run, totals)];
}

/**
 * Why a streamed run proves nothing about streams: nothing came as a stream, or turns were to
 * be dropped and resumed elsewhere but no resume reached another worker than the producer.
 */
function streamReasons(run: RunRecord, totals: CheckTotals): string[] {
  if (run.stream && totals.turnsSent > 0 && totals.streamedTurns === 0) {
    return [
      "every turn was asked for as a stream, but the app answered none as one (no text/event-stream response), so no stream was checked",
    ];
  }
  const rate = run.disconnectRate ?? 0;
  if (rate === 0 || totals.resumesCrossedWorkers > 0) return [];
  if (totals.resumes === 0) {
    return [
      `--disconnect-rate ${rate} resumed no streamed turn (${totals.streamsDropped} dropped), so resuming a stream was never tested`,
    ];
  }
  const why =
    run.workersExpected === 1
      ? "the app ran one worker, so every resume landed on the worker producing its turn"
      : `none of the ${totals.resumes} ${plural(totals.resumes, "resume")} reached another worker than the one producing its turn`;
  return [`${why}: no stream was resumed elsewhere, so the test did not exercise the bug`];
}
