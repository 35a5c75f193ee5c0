import type { FinalRead, RunRecord, TurnRecord } from "../load/records.ts";
import { contextOf, type Detector, splitByConversation } from "./conversation-context.ts";
import { findDivergent } from "./divergence.ts";
import { findDuplicated, findUnexpected } from "./extra-messages.ts";
import { findLost } from "./loss.ts";
import { findInterleaved, findOutOfOrder } from "./ordering.ts";
import { findOverLimit } from "./over-limit.ts";
import { findStale, findStaleContext } from "./staleness.ts";
import { findStreamDuplicates } from "./stream-duplicate.ts";
import { findStreamGaps } from "./stream-gap.ts";
import { findStreamMismatches } from "./stream-mismatch.ts";
import { countAnomalies, distinctWorkers, sumTotals } from "./totals.ts";
import type { Anomaly, CheckResult, ConversationCheck } from "./types.ts";
import { decideVerdict } from "./verdict.ts";

/** Every detector, in a fixed order so reports list anomalies the same from run to run. */
const DETECTORS: readonly Detector[] = [
  findLost,
  findStale,
  findDuplicated,
  findOutOfOrder,
  findInterleaved,
  findStaleContext,
  findUnexpected,
  findDivergent,
  findStreamGaps,
  findStreamDuplicates,
  findStreamMismatches,
];

/**
 * Judges a load run of the chat service: every conversation should keep a complete,
 * ordered, consistent history of its acknowledged turns, whichever worker serves it.
 * Pure: it only looks at the run record.
 */
export function checkRun(run: RunRecord): CheckResult {
  // The limit is per user, across conversations: judged over the run, reported per conversation.
  const overLimit = findOverLimit(run);
  const conversations = splitByConversation(run).map(({ conversationId, turns, reads }) =>
    checkConversation(
      conversationId,
      turns,
      reads,
      overLimit.filter((anomaly) => anomaly.conversationId === conversationId),
    ),
  );
  const totals = sumTotals(run, conversations);
  const { verdict, reasons } = decideVerdict(run, conversations, totals);
  return {
    verdict,
    reasons,
    totals,
    conversations,
    anomalies: conversations.flatMap((conversation) => conversation.anomalies),
  };
}

function checkConversation(
  conversationId: string,
  turnRecords: TurnRecord[],
  reads: FinalRead[],
  runAnomalies: Anomaly[],
): ConversationCheck {
  const ctx = contextOf(conversationId, turnRecords, reads);
  const anomalies = [...DETECTORS.flatMap((detect) => detect(ctx)), ...runAnomalies];
  const { turns, okTurns } = ctx;
  return {
    conversationId,
    turnsSent: turns.length,
    acknowledged: okTurns.length,
    failed: turns.filter((turn) => turn.outcome === "failed").length,
    unknownOutcome: turns.filter((turn) => turn.outcome === "unknown").length,
    distinctWorkers: distinctWorkers(okTurns).size,
    // All reads, failed ones too: the report shows how many were attempted.
    finalReads: reads.length,
    finalReadsOk: ctx.okReads.length,
    ...countAnomalies(anomalies),
    anomalies,
  };
}
