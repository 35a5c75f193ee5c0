import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BenchEnvironment, startBenchApps } from "../../../lab/bench/bench-apps.ts";
import { measureGrowth } from "../../../lab/bench/growth.ts";
import { checkTtl } from "../../../lab/bench/memory.ts";
import { measureRoundTrips } from "../../../lab/bench/round-trips.ts";

// The benchmark's counts, not its timings: those are measured by `npm run bench`, never asserted.
describe("benchmark measurements that are counts", () => {
  let env: BenchEnvironment;
  beforeAll(async () => {
    env = await startBenchApps({ workers: 2, agentLatencyMs: 0 });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it("a fixed turn costs 2 Redis round trips (lease + recent history, then fenced append)", async () => {
    const rows = await measureRoundTrips(env, 6);
    const by = Object.fromEntries(rows.map((r) => [r.label, r]));
    expect(by["broken · history in worker memory"]?.roundTripsPerTurn).toBe(0);
    expect(by["fixed · history in Redis"]?.roundTripsPerTurn).toBe(2);
    expect(by["fixed · history in Redis"]?.sample).toEqual([
      "evalsha acquireTurn",
      "evalsha appendTurn",
    ]);
    expect(by["naive save · history in Redis"]?.roundTripsPerTurn).toBe(2);
    // On Sentinel with WAIT 1 the same two (the WAIT rides in the append's pipeline).
    expect(by["fixed · Sentinel, 2 replicas, WAIT 1"]?.sample).toEqual([
      "evalsha acquireTurn",
      "evalsha appendTurn",
    ]);
  });

  it("the fixed agent sees a bounded window however long the history; the naive one sees it all", async () => {
    const rows = await measureGrowth(
      env,
      ["fixed · history in Redis", "naive save · history in Redis"],
      { turnsPerLength: 2 },
    );
    const [fixed, naive] = rows;
    expect(fixed?.messagesSeen[10_000]).toBe(101);
    expect(naive?.messagesSeen[10_000]).toBe(10_003);
  });

  it("an idle conversation expires with its TTL", async () => {
    // Each conversation is looked for right after its last turn is answered (milliseconds,
    // against a 2 s TTL), then the check waits for expiry with a deadline: no race with a
    // slow machine either way (see checkTtl).
    const ttl = await checkTtl(env, 2);
    expect(ttl.conversations).toBe(20);
    expect(ttl.presentBefore).toBe(ttl.conversations);
    expect(ttl.presentAfter).toBe(0);
  });
});
