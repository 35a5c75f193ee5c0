import { describe, expect, it } from "vitest";
import { readsPerConversation } from "../../lab/load/final-reads.ts";
import { runApp } from "../helpers/run-app.ts";
import { hops } from "../helpers/turn-routing.ts";

describe("fixed app (history rehydrated from Redis on every turn)", () => {
  it("with 4 workers keeps every acknowledged turn, in order, with full context", async () => {
    const load = { workers: 4, conversations: 24, turns: 8 };
    const { summary, check, load: run } = await runApp("fixed", load);
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    expect(summary.acknowledged).toBe(load.conversations * load.turns);
    // The load really crossed workers: every turn after a conversation's first went to
    // another worker than the previous one, so each conversation was served by at least two.
    expect(check.totals.workersServingTurns).toBe(load.workers);
    expect(hops(run.turns)).toBe(load.conversations * (load.turns - 1));
    expect(summary.meanWorkersPerConversation).toBeGreaterThanOrEqual(2);
    // Every final read returned the whole conversation.
    expect(run.reads).toHaveLength(load.conversations * readsPerConversation(load.workers));
    for (const read of run.reads) expect(read.messages).toHaveLength(2 * load.turns);
  });
});
