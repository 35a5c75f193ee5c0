import { describe, expect, it } from "vitest";
import { COUNT_OF } from "../../lab/check/anomaly-counts.ts";
import type { CheckTotals } from "../../lab/check/types.ts";
import {
  EXERCISE_NAMES,
  SCENARIOS,
  type Scenario,
  type ScenarioName,
} from "../../scenarios/catalogue.ts";
import { designedCounts, naiveSaveLostBounds, pickCounts } from "../helpers/designed-anomalies.ts";
import { runApp } from "../helpers/run-app.ts";
import { hops } from "../helpers/turn-routing.ts";

// memory, the core pair, has its own tests (broken-memory, fixed-memory); rate-limit
// acknowledges only some turns by design (rate-limit.test.ts).
const workshop = SCENARIOS.filter((s) => s.name !== "memory" && s.name !== "rate-limit");
const load = { conversations: 12, turns: 6 };
const everyTurn = load.conversations * load.turns;

/** The counts the scenario's design fixes are exact; naive-save's depend on timing: bounds. */
function expectDesignedCounts(name: ScenarioName, totals: CheckTotals) {
  const designed = designedCounts(name, load);
  if (designed) {
    expect(pickCounts(totals, designed)).toEqual(designed);
    return;
  }
  const { min, max } = naiveSaveLostBounds(load);
  expect(totals.lost).toBeGreaterThanOrEqual(min);
  expect(totals.lost).toBeLessThanOrEqual(max);
}

/** A lesson about resuming a stream on another worker: one worker has no other to resume on. */
const resumesElsewhere = (s: Scenario) => (s.load?.disconnectRate ?? 0) > 0;

describe.each(workshop)("scenario $name", (scenario) => {
  const name = scenario.name as ScenarioName;
  // A dropped stream that cannot be resumed never gets its done: not acknowledged, by design.
  const acknowledged = designedCounts(name, load)?.acknowledged ?? everyTurn;

  // A scenario offered as an exercise has this very run in test/lab/learn/exercises: its
  // unsolved copy is the broken variant, checked with the same designed counts and hop.
  if (!EXERCISE_NAMES.includes(name))
    it(`broken: flagged with ${scenario.brokenAnomalies.join(", ")}`, async () => {
      const { summary, check, load: run } = await runApp("broken", { ...load, workers: 4 }, name);
      expect(summary.verdict).toBe("invalid");
      expect(summary.acknowledged).toBe(acknowledged);
      for (const kind of scenario.brokenAnomalies)
        expect(check.totals[COUNT_OF[kind]]).toBeGreaterThan(0);
      // The hop the designed counts rest on (naive-save overlaps turns: no single previous one).
      if (name !== "naive-save")
        expect(hops(run.turns)).toBe(load.conversations * (load.turns - 1));
      expectDesignedCounts(name, check.totals);
    });

  if (scenario.brokenWithOneWorker) {
    it("broken: flagged even with one worker", async () => {
      const { summary, check } = await runApp("broken", { ...load, workers: 1 }, name);
      expect(summary.verdict).toBe("invalid");
      expect(summary.acknowledged).toBe(everyTurn);
      for (const kind of scenario.brokenAnomalies)
        expect(check.totals[COUNT_OF[kind]]).toBeGreaterThan(0);
      // These lessons need no second worker: the same counts as with four.
      expectDesignedCounts(name, check.totals);
    });
  } else if (resumesElsewhere(scenario)) {
    it("broken: unknown with one worker (every resume lands on the producer: nothing proved)", async () => {
      const { summary, check } = await runApp("broken", { ...load, workers: 1 }, name);
      expect(check.anomalies).toEqual([]);
      expect(summary.acknowledged).toBe(everyTurn);
      expect(check.totals.resumes).toBeGreaterThan(0);
      expect(check.totals.resumesCrossedWorkers).toBe(0);
      // Never valid: the run could not have caught the bug.
      expect(summary.verdict).toBe("unknown");
      expect(check.reasons).toEqual([
        "the app ran one worker, so every resume landed on the worker producing its turn: no stream was resumed elsewhere, so the test did not exercise the bug",
      ]);
    });
  } else {
    it("broken: consistent with one worker (the bug needs several)", async () => {
      const { summary, check } = await runApp("broken", { ...load, workers: 1 }, name);
      expect(summary.verdict).toBe("valid");
      expect(check.anomalies).toEqual([]);
      expect(summary.acknowledged).toBe(everyTurn);
    });
  }

  it("fixed: valid, zero anomalies, across 4 workers", async () => {
    const { summary, check } = await runApp("fixed", { ...load, workers: 4 }, name);
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    expect(summary.acknowledged).toBe(everyTurn);
    expect(check.totals.workersServingTurns).toBe(4);
    if (resumesElsewhere(scenario)) {
      // Every dropped stream was resumed on another worker, and came whole.
      expect(check.totals.resumes).toBe(designedCounts(name, load)?.streamGap);
      expect(check.totals.resumesCrossedWorkers).toBe(check.totals.resumes);
    }
  });
});
