import { describe, expect, it } from "vitest";
import { type ChaosCase, runChaosCase } from "../../../lab/chaos/run-case.ts";
import { TURN_CATEGORIES } from "../../../lab/chaos/turn-categories.ts";
import { TEST_CHAOS_OPTIONS } from "../../helpers/chaos-options.ts";

/** The app's fail-fast Redis timeouts (connectTimeout, commandTimeout), in ms. */
const FAIL_FAST_TIMEOUT_MS = 1000;

const options = TEST_CHAOS_OPTIONS;

/**
 * Every turn of a real run in exactly one category: they add up to the turns sent, and agree
 * with the checker, which reads the same records (uncertain and no answer are its unknown).
 */
function expectCategoriesAddUp(run: ChaosCase): void {
  const turns = run.outcome?.turns;
  const totals = run.check?.totals;
  expect(turns && totals).toBeTruthy();
  if (!turns || !totals) return;
  const sum = TURN_CATEGORIES.reduce((total, c) => total + turns[c], 0);
  expect(sum).toBe(run.outcome?.turnsSent);
  expect(sum).toBe(run.load?.turns.length);
  expect(turns.acknowledged).toBe(totals.acknowledged);
  expect(turns.refused).toBe(totals.failed);
  expect(turns.uncertain + turns.noAnswer).toBe(totals.unknownOutcome);
}

describe("the fixed app under faults keeps every acknowledged turn", () => {
  it("worker SIGKILL: replaced; turns cut off in flight got no answer, none acknowledged is lost", async () => {
    // A slow model keeps a turn in flight on every connection when the worker dies.
    const run = await runChaosCase("worker-crash", "fixed", { ...options, agentLatencyMs: 100 });
    const o = run.outcome;
    expect(o).toMatchObject({ struck: true, verdict: "valid", lost: 0, replaced: true });
    expect(o?.turns.noAnswer).toBeGreaterThan(0);
    expect(o?.causes.noAnswer["connection dropped"]).toBeGreaterThan(0);
    // A turn cut off is never counted as acknowledged, nor as refused.
    expectCategoriesAddUp(run);
  });

  it("worker SIGTERM: drains its in-flight turns (each one answered), then is replaced", async () => {
    const run = await runChaosCase("worker-drain", "fixed", { ...options, agentLatencyMs: 100 });
    expect(run.outcome).toMatchObject({
      struck: true,
      verdict: "valid",
      lost: 0,
      turns: { uncertain: 0, noAnswer: 0 },
      replaced: true,
    });
    expectCategoriesAddUp(run);
  });

  it("Redis outage: refusals are fast 503s, nothing is lost, and it recovers by itself", async () => {
    const run = await runChaosCase("redis-outage", "fixed", options);
    const o = run.outcome;
    // Every turn refused during the outage went through once Redis was back.
    expect(o).toMatchObject({ struck: true, verdict: "valid", lost: 0, turns: { refused: 0 } });
    expect(o?.refusedSends["HTTP 503 store_unavailable"]).toBeGreaterThan(0);
    // Fast, not a hang. While Redis is down a command fails at once (offline queue off: about
    // 50 ms here, idle); at worst a refusal waits out one of ioredis's 1 s fail-fast timeouts
    // (connectTimeout / commandTimeout in service/store/redis-client.ts). At 4x load the work
    // around it takes 4x longer (~200 ms) and its timer fires late, so 1 s of headroom over the
    // timeout holds; a hang would instead run into the client's 3 s timeout (no answer at all).
    expect(o?.slowestRefusalMs).toBeLessThan(FAIL_FAST_TIMEOUT_MS + 1000);
    // It recovers by itself: turns are acknowledged again after Redis is back ...
    expect(typeof o?.recoveryMs).toBe("number");
    expect(o?.recoveryMs).toBeGreaterThanOrEqual(0);
    // ... by the very workers that served before the outage, every one of them, each having
    // reconnected on its own: none restarted or replaced.
    const event = run.event;
    const pidsOf = (answeredWhen: (at: number) => boolean) =>
      new Set(
        run.load?.turns
          .filter((t) => t.outcome === "ok" && answeredWhen(t.answeredAt ?? Number.NaN))
          .map((t) => t.servedBy?.pid),
      );
    const before = pidsOf((at) => at < (event?.startedAt ?? Number.NaN));
    expect(before.size).toBe(options.workers);
    expect(pidsOf((at) => at >= (event?.restoredAt ?? Number.NaN))).toEqual(before);
    // No hang: every turn got an answer; an uncertain one is a 503 store_write_uncertain.
    expect(o?.turns.noAnswer).toBe(0);
    const uncertain = o?.turns.uncertain ?? 0;
    expect(o?.causes.uncertain).toEqual(
      uncertain > 0 ? { "HTTP 503 store_write_uncertain": uncertain } : {},
    );
    expectCategoriesAddUp(run);
  });

  it("Redis SIGKILL with appendfsync always: restarted from its AOF, nothing acknowledged is lost", async () => {
    const run = await runChaosCase("redis-crash", "fixed", options);
    expect(run.outcome).toMatchObject({ struck: true, verdict: "valid", lost: 0 });
    expect(run.outcome?.refusedSends["HTTP 503 store_unavailable"]).toBeGreaterThan(0);
    // A write cut off by the crash is uncertain, never a refusal.
    expect(run.outcome?.refusedSends["HTTP 503 store_write_uncertain"]).toBeUndefined();
    expectCategoriesAddUp(run);
  });

  it("the check can fail: Redis SIGKILL without persistence loses acknowledged turns, and is caught", async () => {
    const run = await runChaosCase("redis-crash", "fixed", { ...options, persistence: "none" });
    expect(run.outcome?.struck).toBe(true);
    expect(run.outcome?.verdict).toBe("invalid");
    expect(run.outcome?.lost).toBeGreaterThan(0);
    expectCategoriesAddUp(run);
  });
});

describe("the broken app under worker faults loses the victim's share", () => {
  it("worker SIGKILL: every lost turn was answered by the killed worker", async () => {
    const run = await runChaosCase("worker-crash", "broken", options);
    const o = run.outcome;
    expect(o).toMatchObject({ struck: true, verdict: "invalid", replaced: true });
    expect(o?.lost).toBeGreaterThan(0);
    expect(o?.lostFromVictim).toBe(o?.lost);
    expectCategoriesAddUp(run);
  });

  it("worker SIGTERM: a graceful drain still loses the memory the worker held", async () => {
    const run = await runChaosCase("worker-drain", "broken", options);
    const o = run.outcome;
    expect(o).toMatchObject({
      struck: true,
      verdict: "invalid",
      turns: { uncertain: 0, noAnswer: 0 },
      replaced: true,
    });
    expect(o?.lost).toBeGreaterThan(0);
    expect(o?.lostFromVictim).toBe(o?.lost);
    expectCategoriesAddUp(run);
  });

  it("has no Redis to fail: the Redis faults are reported as not applicable", async () => {
    const run = await runChaosCase("redis-outage", "broken", options);
    expect(run.skipped).toMatch(/no Redis/);
    expect(run.outcome).toBeUndefined();
  });
});
