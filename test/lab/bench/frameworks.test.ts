import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BenchEnvironment,
  contendersFor,
  startBenchApps,
} from "../../../lab/bench/bench-apps.ts";
import { FRAMEWORK_GROWTH_LABELS, measureFrameworkCost } from "../../../lab/bench/frameworks.ts";
import { measureGrowth } from "../../../lab/bench/growth.ts";

const BROKEN_LANGGRAPH = "broken · langgraph · checkpoints in worker memory";
const FIXED_LANGGRAPH = "fixed · langgraph · checkpoints in Redis";
const BROKEN_AGENTS = "broken · openai-agents · session in worker memory";
const FIXED_AGENTS = "fixed · openai-agents · session in Redis";

// Counts only (round trips, bytes that must be none, history lengths): `npm run bench`
// measures the timings, no test asserts one.
describe("benchmark of the framework scenarios: what it counts", () => {
  let env: BenchEnvironment;
  beforeAll(async () => {
    // A private redis-server: test/setup.ts removes any REDIS_URL the shell exported.
    const contenders = contendersFor(["frameworks"]);
    env = await startBenchApps({ workers: 2, agentLatencyMs: 0, contenders });
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it("a fixed framework turn takes 3 round trips; a broken one sends Redis nothing", async () => {
    const rows = await measureFrameworkCost(env, 4);
    const by = Object.fromEntries(rows.map((r) => [r.label, r]));
    for (const broken of [BROKEN_LANGGRAPH, BROKEN_AGENTS]) {
      expect(by[broken]?.roundTripsPerTurn).toBe(0);
      expect(by[broken]?.bytesPerTurn).toEqual({ sent: 0, received: 0 });
    }
    expect(by[FIXED_LANGGRAPH]?.roundTripsPerTurn).toBe(3);
    expect(by[FIXED_LANGGRAPH]?.sample).toEqual([
      "evalsha acquireTurn",
      "evalsha checkpointGet",
      "evalsha checkpointPut",
    ]);
    expect(by[FIXED_AGENTS]?.roundTripsPerTurn).toBe(3);
    expect(by[FIXED_AGENTS]?.sample).toEqual([
      "evalsha acquireTurn",
      "evalsha loadRecent",
      "evalsha agentsSessionAdd",
    ]);
    // The reference: the fixed app of the memory scenario, 2 round trips.
    expect(by["fixed · history in Redis"]?.roundTripsPerTurn).toBe(2);
    for (const fixed of [FIXED_LANGGRAPH, FIXED_AGENTS]) {
      expect(by[fixed]?.bytesPerTurn.sent).toBeGreaterThan(0);
      expect(by[fixed]?.bytesPerTurn.received).toBeGreaterThan(0);
    }
  });

  it("a preloaded checkpoint or session is the history the app's turn answers from", async () => {
    // measureGrowth checks each turn's historyLength against the preloaded length.
    const rows = await measureGrowth(env, FRAMEWORK_GROWTH_LABELS, {
      turnsPerLength: 2,
      lengths: [10, 1_000],
    });
    expect(rows.map((r) => r.label)).toEqual(FRAMEWORK_GROWTH_LABELS);
    const by = Object.fromEntries(rows.map((r) => [r.label, r]));
    // The second turn: the preload and the first turn's 2, the window (100) and the new message.
    expect(by[FIXED_LANGGRAPH]?.messagesSeen).toEqual({ 10: 13, 1000: 101 });
    expect(by[FIXED_AGENTS]?.messagesSeen).toEqual({ 10: 13, 1000: 101 });
  });
});
