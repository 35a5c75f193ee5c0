import type { RunRecord, TurnRecord } from "../load/records.ts";
import { COUNT_OF, noAnomalies } from "./anomaly-counts.ts";
import { streamTotals } from "./stream-events.ts";
import type { Anomaly, AnomalyCounts, CheckTotals, ConversationCheck } from "./types.ts";

/** One conversation's anomalies as counts, one field per kind. */
export function countAnomalies(anomalies: Anomaly[]): AnomalyCounts {
  const counts = noAnomalies();
  for (const { kind } of anomalies) counts[COUNT_OF[kind]] += 1;
  return counts;
}

/** Distinct worker processes (hostname + pid) that answered the given turns. */
export function distinctWorkers(turns: TurnRecord[]): Set<string> {
  const workers = new Set<string>();
  for (const { servedBy } of turns) {
    if (servedBy !== undefined) workers.add(`${servedBy.hostname}:${servedBy.pid}`);
  }
  return workers;
}

/** The whole run's figures, summed over its conversations. */
export function sumTotals(run: RunRecord, conversations: ConversationCheck[]): CheckTotals {
  const sum = (pick: (c: ConversationCheck) => number) =>
    conversations.reduce((total, conversation) => total + pick(conversation), 0);
  // Conversations with nothing acknowledged were served by no worker; they would drag the mean down.
  const withAcknowledged = conversations.filter((c) => c.acknowledged > 0);
  const meanWorkers =
    withAcknowledged.length === 0
      ? 0
      : withAcknowledged.reduce((total, c) => total + c.distinctWorkers, 0) /
        withAcknowledged.length;

  return {
    conversations: conversations.length,
    conversationsAffected: conversations.filter((c) => c.anomalies.length > 0).length,
    turnsSent: sum((c) => c.turnsSent),
    acknowledged: sum((c) => c.acknowledged),
    failed: sum((c) => c.failed),
    unknownOutcome: sum((c) => c.unknownOutcome),
    // Over the run, not summed: one worker serving two conversations counts once.
    workersServingTurns: distinctWorkers(run.turns.filter((turn) => turn.outcome === "ok")).size,
    meanWorkersPerConversation: Math.round(meanWorkers * 100) / 100,
    finalReads: sum((c) => c.finalReads),
    finalReadsOk: sum((c) => c.finalReadsOk),
    lost: sum((c) => c.lost),
    stale: sum((c) => c.stale),
    duplicated: sum((c) => c.duplicated),
    outOfOrder: sum((c) => c.outOfOrder),
    interleaved: sum((c) => c.interleaved),
    staleContext: sum((c) => c.staleContext),
    unexpected: sum((c) => c.unexpected),
    divergent: sum((c) => c.divergent),
    overLimit: sum((c) => c.overLimit),
    streamGap: sum((c) => c.streamGap),
    streamDuplicate: sum((c) => c.streamDuplicate),
    streamMismatch: sum((c) => c.streamMismatch),
    ...streamTotals(run.turns),
  };
}
