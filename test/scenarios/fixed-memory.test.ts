import { describe, expect, it } from "vitest";
import { runApp } from "../helpers/run-app.ts";

describe("fixed app (history rehydrated from Redis on every turn)", () => {
  it("with 4 workers keeps every acknowledged turn, in order, with full context", async () => {
    const { summary, check, load } = await runApp("fixed", { workers: 4 });
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    expect(summary.acknowledged).toBe(24 * 8);
    // The load really crossed workers: most conversations were served by several.
    expect(check.totals.workersServingTurns).toBe(4);
    expect(summary.meanWorkersPerConversation).toBeGreaterThan(1);
    // Every final read returned the whole conversation.
    for (const read of load.reads) expect(read.messages).toHaveLength(2 * 8);
  });
});
