import { describe, expect, it } from "vitest";
import { checkRun } from "../../../lab/check/checker.ts";
import type { FinalRead, TurnRecord } from "../../../lab/load/records.ts";
import type { ChatMessage } from "../../../service/contract.ts";

const servedBy = (pid: number) => ({ workerId: pid, pid, hostname: "h" });

/** A sequential conversation of `n` turns where the agent sees at most `window` earlier messages. */
function windowedRun(n: number, window: number, staleAt?: number) {
  const turns: TurnRecord[] = [];
  const messages: ChatMessage[] = [];
  for (let i = 0; i < n; i++) {
    const turnId = `t${i}`;
    const historyLength = i === staleAt ? 2 * i - 2 : 2 * i;
    turns.push({
      conversationId: "c",
      index: i,
      turnId,
      text: `q${i}`,
      sentAt: i * 10,
      answeredAt: i * 10 + 5,
      outcome: "ok",
      status: 200,
      servedBy: servedBy(1 + (i % 2)),
      messagesSeen: Math.min(historyLength, window) + 1,
      historyLength,
    });
    messages.push(
      { role: "user", content: `q${i}`, turnId, servedBy: servedBy(1), at: "" },
      { role: "assistant", content: `a${i}`, turnId, servedBy: servedBy(1), at: "" },
    );
  }
  const reads: FinalRead[] = [1, 2].map((pid) => ({
    conversationId: "c",
    ok: true,
    status: 200,
    servedBy: servedBy(pid),
    messages,
  }));
  return { turns, reads, workersExpected: 2 };
}

describe("a bounded context window", () => {
  it("is not stale by itself: historyLength, not messagesSeen, carries the history", () => {
    const result = checkRun(windowedRun(12, 4));
    expect(result.verdict).toBe("valid");
  });

  it("still catches a stale read the window would hide", () => {
    // Turn 9 read a history 2 messages short; with a window of 4 it still saw 5 messages.
    const run = windowedRun(12, 4, 8);
    expect(run.turns[8]?.messagesSeen).toBe(5);
    const result = checkRun(run);
    expect(result.verdict).toBe("invalid");
    expect(result.totals.stale).toBe(1);
    expect(result.totals.staleContext).toBe(1);
  });
});
