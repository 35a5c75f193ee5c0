import { describe, expect, it } from "vitest";
import { readsPerConversation } from "../../lab/load/final-reads.ts";
import { runApp } from "../helpers/run-app.ts";
import { hops } from "../helpers/turn-routing.ts";

describe("broken app (history in process memory)", () => {
  it("with 4 workers loses acknowledged turns and answers from stale history", async () => {
    const load = { workers: 4, conversations: 24, turns: 8 };
    const { summary, check, load: run } = await runApp("broken", load);
    expect(summary.verdict).toBe("invalid");
    expect(summary.acknowledged).toBe(load.conversations * load.turns);
    // The load test's design: every turn after a conversation's first lands on a worker
    // other than the one that served the previous turn.
    expect(hops(run.turns)).toBe(load.conversations * (load.turns - 1));
    // Each turn lives only in the memory of the worker that served it, and every history is
    // read 2 x workers times over fresh connections (round robin: every worker): every
    // acknowledged turn is missing from some worker's read.
    expect(summary.lost).toBe(load.conversations * load.turns);
    // A worker that never saw the previous turn answers from fewer than 2A+1 messages:
    // every turn but each conversation's first is stale.
    expect(summary.stale).toBe(load.conversations * (load.turns - 1));
    // Every conversation's turns are split over several workers, so its reads disagree.
    expect(check.totals.divergent).toBe(load.conversations);
    expect(check.totals.workersServingTurns).toBe(load.workers);
  });

  it("with 1 worker is consistent (the article's 'reproduce with one worker')", async () => {
    const { summary, check } = await runApp("broken", { workers: 1 });
    expect(summary.acknowledged).toBe(24 * 8);
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    // Every history was read back, each time successfully.
    expect(check.totals.finalReadsOk).toBe(24 * readsPerConversation(1));
  });

  it("with sticky connections hides the bug: every conversation stays on one worker", async () => {
    const { summary, check } = await runApp("broken", { workers: 4, sticky: true });
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    expect(summary.meanWorkersPerConversation).toBe(1);
    // Different conversations still used different workers, so the run proved something:
    // the cluster's round robin hands the first four of the 8 connections to four workers.
    expect(check.totals.workersServingTurns).toBe(4);
  });
});
