import { describe, expect, it } from "vitest";
import { COUNT_OF } from "../../lab/check/anomaly-counts.ts";
import { SCENARIOS, type ScenarioName } from "../../scenarios/catalogue.ts";
import { runApp } from "../helpers/run-app.ts";

// memory, the core pair, has its own tests (broken-memory, fixed-memory).
const workshop = SCENARIOS.filter((s) => s.name !== "memory");
const load = { conversations: 12, turns: 6 };

describe.each(workshop)("scenario $name", (scenario) => {
  const name = scenario.name as ScenarioName;

  it(`broken: flagged with ${scenario.brokenAnomalies.join(", ")}`, async () => {
    const { summary, check } = await runApp("broken", { ...load, workers: 4 }, name);
    expect(summary.verdict).toBe("invalid");
    for (const kind of scenario.brokenAnomalies)
      expect(check.totals[COUNT_OF[kind]]).toBeGreaterThan(0);
  });

  if (scenario.brokenWithOneWorker) {
    it("broken: flagged even with one worker", async () => {
      const { summary, check } = await runApp("broken", { ...load, workers: 1 }, name);
      expect(summary.verdict).toBe("invalid");
      for (const kind of scenario.brokenAnomalies)
        expect(check.totals[COUNT_OF[kind]]).toBeGreaterThan(0);
    });
  } else {
    it("broken: consistent with one worker (the bug needs several)", async () => {
      const { summary } = await runApp("broken", { ...load, workers: 1 }, name);
      expect(summary.verdict).toBe("valid");
    });
  }

  it("fixed: valid, zero anomalies, across 4 workers", async () => {
    const { summary, check } = await runApp("fixed", { ...load, workers: 4 }, name);
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    expect(summary.acknowledged).toBe(12 * 6);
    expect(check.totals.workersServingTurns).toBe(4);
  });
});
