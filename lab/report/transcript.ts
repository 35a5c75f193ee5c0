import pc from "picocolors";
import type { CheckResult, ConversationCheck } from "../check/types.ts";
import type { LoadResult } from "../load/run-load.ts";
import { textTable, workerTag } from "./palette.ts";
import { transcriptModel } from "./transcript-model.ts";

/**
 * The conversation that shows the bug best: most stale replies, then most lost turns or
 * streamed replies that never arrived whole.
 */
export function pickConversation(check: CheckResult): ConversationCheck | undefined {
  const acknowledged = check.conversations.filter((c) => c.acknowledged > 0);
  // A streamed run can acknowledge nothing (every stream cut): show what its client got.
  const withTurns = acknowledged.length > 0 ? acknowledged : streamedOnly(check);
  const score = (c: ConversationCheck) =>
    c.stale * 1000 + (c.lost + c.streamGap + c.streamMismatch) * 10 + c.divergent;
  return [...withTurns].sort((a, b) => score(b) - score(a))[0];
}

/** What the shown conversation shows, as its heading says ("One ..." or "A ..." where it went wrong). */
export function transcriptHeading(shown: ConversationCheck, article: "One" | "A" = "One"): string {
  if (shown.stale + shown.lost > 0) return `${article} conversation where the agent forgets`;
  if (shown.streamGap + shown.streamMismatch > 0)
    return `${article} conversation where streamed replies did not arrive whole`;
  return "One conversation, turn by turn";
}

function streamedOnly(check: CheckResult): ConversationCheck[] {
  return check.totals.streamedTurns > 0 ? check.conversations.filter((c) => c.turnsSent > 0) : [];
}

/**
 * One conversation turn by turn: which worker served it, how many messages the agent
 * was given against how many it should have had, and its reply (which says what it remembers).
 */
export function renderTranscript(load: LoadResult, conversationId: string): string {
  const model = transcriptModel(load, conversationId);
  const table = textTable({
    head: ["turn", "worker", "agent saw", "should see", "reply"].map((h) => pc.bold(h)),
    colWidths: [6, 8, 11, 12, 72],
    wordWrap: true,
  });
  for (const { turn, worker, expected, seen, forgot, reply } of model.rows) {
    table.push([
      `#${turn.index + 1}`,
      workerTag(worker?.workerId, worker?.hostname),
      seen === undefined ? "-" : forgot ? pc.red(`${seen} ✗`) : pc.green(`${seen} ✓`),
      String(expected),
      forgot ? pc.red(reply) : turn.outcome === "ok" ? reply : pc.dim(reply),
    ]);
  }
  const readLine = model.reads
    .map(
      ({ servedBy, count }) =>
        `${workerTag(servedBy?.workerId ?? 0, servedBy?.hostname)} has ${count}`,
    )
    .join(", ");
  return [
    table.toString(),
    `Final reads of ${conversationId}: ${readLine || pc.dim("none")} (of ${model.acknowledgedMessages} messages acknowledged)`,
  ].join("\n");
}
