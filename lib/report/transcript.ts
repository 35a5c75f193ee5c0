import Table from "cli-table3";
import pc from "picocolors";
import type { CheckResult, ConversationCheck } from "../check/types.ts";
import type { LoadResult } from "../load/run-load.ts";
import { workerTag } from "./palette.ts";

/** The conversation that shows the bug best: most stale replies, then most lost turns. */
export function pickConversation(check: CheckResult): ConversationCheck | undefined {
  const withTurns = check.conversations.filter((c) => c.acknowledged > 0);
  const score = (c: ConversationCheck) => c.stale * 1000 + c.lost * 10 + c.divergent;
  return [...withTurns].sort((a, b) => score(b) - score(a))[0];
}

/**
 * One conversation turn by turn: which worker served it, how many messages the agent
 * was given against how many it should have had, and its reply (which says what it remembers).
 */
export function renderTranscript(load: LoadResult, conversationId: string): string {
  const turns = load.turns
    .filter((t) => t.conversationId === conversationId)
    .sort((a, b) => a.index - b.index);
  const table = new Table({
    head: ["turn", "worker", "agent saw", "should see", "reply"].map((h) => pc.bold(h)),
    colWidths: [6, 8, 11, 12, 72],
    wordWrap: true,
    style: { head: [] },
  });
  // As the checker's "stale": turns acknowledged before this one was sent (overlap-aware).
  const acknowledgedBefore = (sentAt: number) =>
    turns.filter((t) => t.outcome === "ok" && (t.answeredAt ?? Infinity) <= sentAt).length;
  for (const turn of turns) {
    const expected = 2 * acknowledgedBefore(turn.sentAt) + 1;
    const seen = turn.messagesSeen;
    const forgot = seen !== undefined && seen < expected;
    const reply =
      turn.outcome === "ok"
        ? (turn.reply ?? "")
        : pc.dim(`(${turn.outcome}, status ${turn.status ?? "none"})`);
    table.push([
      `#${turn.index + 1}`,
      workerTag(turn.servedBy?.workerId, turn.servedBy?.hostname),
      seen === undefined ? "-" : forgot ? pc.red(`${seen} ✗`) : pc.green(`${seen} ✓`),
      String(expected),
      forgot ? pc.red(reply) : reply,
    ]);
  }
  const reads = load.reads.filter((r) => r.conversationId === conversationId && r.ok);
  const perWorker = new Map<string, { tag: string; count: number }>();
  for (const read of reads) {
    const by = read.servedBy;
    perWorker.set(`${by?.hostname}:${String(by?.workerId).padStart(3, "0")}`, {
      tag: workerTag(by?.workerId ?? 0, by?.hostname),
      count: read.messages.length,
    });
  }
  const readLine = [...perWorker.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, { tag, count }]) => `${tag} has ${count}`)
    .join(", ");
  const expectedMessages = 2 * turns.filter((t) => t.outcome === "ok").length;
  return [
    table.toString(),
    `Final reads of ${conversationId}: ${readLine || pc.dim("none")} (of ${expectedMessages} messages acknowledged)`,
  ].join("\n");
}
