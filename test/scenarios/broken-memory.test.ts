import { describe, expect, it } from "vitest";
import { runApp } from "../helpers/run-app.ts";

describe("broken app (history in process memory)", () => {
  it("with 4 workers loses acknowledged turns and answers from stale history", async () => {
    const { summary, check } = await runApp("broken", { workers: 4 });
    expect(summary.verdict).toBe("invalid");
    expect(summary.acknowledged).toBe(24 * 8);
    expect(summary.lost).toBeGreaterThan(0);
    expect(summary.stale).toBeGreaterThan(0);
    expect(check.totals.divergent).toBeGreaterThan(0);
    expect(check.totals.workersServingTurns).toBe(4);
  });

  it("with 1 worker is consistent (the article's 'reproduce with one worker')", async () => {
    const { summary, check } = await runApp("broken", { workers: 1 });
    expect(summary.acknowledged).toBe(24 * 8);
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    expect(check.totals.finalReadsOk).toBeGreaterThan(0);
  });

  it("with sticky connections hides the bug: every conversation stays on one worker", async () => {
    const { summary, check } = await runApp("broken", { workers: 4, sticky: true });
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    expect(summary.meanWorkersPerConversation).toBe(1);
    // Different conversations still used different workers, so the run proved something.
    expect(check.totals.workersServingTurns).toBeGreaterThan(1);
  });
});
