import { describe, expect, it } from "vitest";
import type { CheckResult } from "../../../lab/check/types.ts";
import type { RunSummary } from "../../../lab/report/summary.ts";
import { verdictSentence } from "../../../lab/report/verdict-sentence.ts";
import { keepsOf } from "../../../scenarios/catalogue.ts";
import { NO_ANOMALIES } from "../check/fixtures.ts";

const summary = (overrides: Partial<RunSummary>): RunSummary => ({
  app: "broken",
  scenario: "memory",
  workers: 4,
  sticky: false,
  verdict: "valid",
  conversations: 24,
  turnsSent: 192,
  acknowledged: 192,
  lost: 0,
  lostPct: 0,
  lostEverywhere: 0,
  lostEverywherePct: 0,
  stale: 0,
  stalePct: 0,
  conversationsAffected: 0,
  historyVisiblePct: 100,
  meanWorkersPerConversation: 3.7,
  turnsPerSecond: 200,
  p50Ms: 10,
  p99Ms: 50,
  ...overrides,
});

const check = (reasons: string[] = [], overLimit = 0) =>
  ({ reasons, totals: { ...NO_ANOMALIES, overLimit } }) as unknown as CheckResult;

describe("the verdict in one sentence", () => {
  it("says where each variant keeps its state, in the catalogue's words", () => {
    expect(keepsOf("broken", "memory")).toBe("history in worker memory");
    expect(keepsOf("fixed", "memory")).toBe("history in Redis");
    expect(keepsOf("fixed", "not-a-scenario")).toBeUndefined();
  });

  it("INVALID names what the user would notice", () => {
    expect(verdictSentence(summary({ verdict: "invalid", lost: 192 }), check())).toBe(
      "INVALID: the app answered 200 to 192 turns that some later read of their conversation does not show: the agent forgets them.",
    );
    expect(verdictSentence(summary({ verdict: "invalid", stale: 1 }), check())).toMatch(
      /^INVALID: 1 reply came from a history missing/,
    );
    expect(verdictSentence(summary({ verdict: "invalid" }), check([], 3))).toMatch(
      /^INVALID: 3 more turns got through than the user's limit allows/,
    );
  });

  it("a broken app that passes says what hid the bug: one worker, or sticky routing", () => {
    expect(verdictSentence(summary({ workers: 1 }), check())).toMatch(
      /^VALID, but only because one worker served every turn.*--workers 4/,
    );
    expect(verdictSentence(summary({ sticky: true }), check())).toMatch(
      /^VALID, but only because --sticky kept each conversation on one connection/,
    );
    // A scenario broken even with one worker has nothing to hide behind.
    expect(verdictSentence(summary({ workers: 1, scenario: "copied-state" }), check())).toMatch(
      /^VALID: every acknowledged turn/,
    );
  });

  it("VALID for the fixed app says what held, across how many workers", () => {
    expect(verdictSentence(summary({ app: "fixed" }), check())).toBe(
      "VALID: every acknowledged turn is in every read of its conversation and every reply saw the history before it, across 4 workers.",
    );
    expect(
      verdictSentence(summary({ verdict: "unknown" }), check(["no turn was acknowledged"])),
    ).toBe("UNKNOWN: no turn was acknowledged.");
  });

  it("names the stream anomaly, and a valid streamed run says its streams held", () => {
    const streamed = { ...NO_ANOMALIES, streamGap: 36 } as unknown as CheckResult["totals"];
    expect(
      verdictSentence(summary({ verdict: "invalid", scenario: "streaming" }), {
        reasons: [],
        totals: streamed,
      } as unknown as CheckResult),
    ).toBe(
      "INVALID: 36 streamed replies never reached their clients whole: the connection dropped, and resuming with Last-Event-ID on another worker did not give the rest of the reply.",
    );
    const stream = {
      disconnectRate: 0.5,
      turns: 72,
      dropped: 36,
      resumes: 36,
      crossed: 36,
      gap: 0,
      duplicate: 0,
      mismatch: 0,
    };
    expect(verdictSentence(summary({ app: "fixed", stream }), check())).toBe(
      "VALID: every acknowledged turn is in every read of its conversation, every reply saw the history before it, and every streamed reply reached its client whole (36 resumed on another worker), across 4 workers.",
    );
  });
});
