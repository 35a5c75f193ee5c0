import { describe, expect, it } from "vitest";
import { naiveSaveLostBounds } from "../helpers/designed-anomalies.ts";
import { runApp } from "../helpers/run-app.ts";

const load = { workers: 4, conversations: 16, turns: 6, overlap: 3, "retry-rate": 0.2 };

describe("overlapping turns and retries against 4 workers", () => {
  it.each(["enqueue", "reject"])(
    "fixed (%s): no lost, duplicated, interleaved or stale-context turn",
    async (strategy) => {
      const {
        summary,
        check,
        load: run,
      } = await runApp("fixed", load, "memory", undefined, {
        TURN_STRATEGY: strategy,
      });
      expect(check.anomalies).toEqual([]);
      expect(summary.verdict).toBe("valid");
      // The run really overlapped and retried.
      expect(run.turns.some((t) => (t.attempts ?? 1) > 1)).toBe(true);
      if (strategy === "enqueue") expect(summary.acknowledged).toBe(16 * 6);
      // reject: some turns met another turn of their conversation and were refused, leaving no trace.
      else expect(check.totals.failed).toBeGreaterThan(0);
    },
  );

  // The frameworks' fixed variants commit a turn's checkpoint or session items with its record,
  // under the same gate: the load, overlap 3 and 10% retries.
  const frameworks = ["langgraph", "openai-agents"] as const;
  const frameworkLoad = { ...load, "retry-rate": 0.1, seed: 7 };

  it.each(frameworks)(
    "fixed %s: no lost, duplicated, interleaved or stale-context turn, retries replayed",
    async (scenario) => {
      const { summary, check, load: run } = await runApp("fixed", frameworkLoad, scenario);
      expect(check.anomalies).toEqual([]);
      expect(summary.verdict).toBe("valid");
      expect(summary.acknowledged).toBe(load.conversations * load.turns);
      expect(run.turns.some((t) => (t.attempts ?? 1) > 1)).toBe(true);
    },
  );

  it.each(frameworks)(
    "the same %s app without the gate (TURN_STRATEGY=off) is caught: the check can fail",
    async (scenario) => {
      // Turns one at a time, so a retry sent after its first attempt's answer runs alone: it
      // reads the thread with that attempt stored and, with no gate to answer it from the
      // turn's record, runs and stores the turn again, on every run. (Under overlap, another
      // turn of the conversation can win the race and the fork guard refuses the retry.)
      const control = { ...frameworkLoad, overlap: 1, "retry-rate": 0.3 };
      const env = { TURN_STRATEGY: "off" };
      const { summary, check } = await runApp("fixed", control, scenario, undefined, env);
      expect(summary.verdict).toBe("invalid");
      // Two attempts of one turn both ran and were both stored.
      expect(check.totals.duplicated).toBeGreaterThan(0);
    },
  );

  it("the naive whole-history save loses updates", async () => {
    const { summary, check } = await runApp("broken", load, "naive-save");
    expect(summary.verdict).toBe("invalid");
    expect(summary.acknowledged).toBe(load.conversations * load.turns);
    // How many turns are lost depends on which overlapping turns loaded the same history
    // (timing), so only bounds are fixed: some are lost, and the save that landed last keeps
    // at least its own turn in each conversation.
    const { min, max } = naiveSaveLostBounds(load);
    expect(check.totals.lost).toBeGreaterThan(0);
    expect(check.totals.lost).toBeGreaterThanOrEqual(min);
    expect(check.totals.lost).toBeLessThanOrEqual(max);
  });
});
