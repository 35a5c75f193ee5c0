import { describe, expect, it } from "vitest";
import { runChaosCase } from "../../../lab/chaos/run-case.ts";
import { TEST_CHAOS_OPTIONS } from "../../helpers/chaos-options.ts";

const options = TEST_CHAOS_OPTIONS;

/** Acknowledged turns answered after the deployment was given back: it serves by itself. */
function acknowledgedAfter(run: Awaited<ReturnType<typeof runChaosCase>>): number {
  const restoredAt = run.event?.restoredAt ?? Number.POSITIVE_INFINITY;
  return (run.load?.turns ?? []).filter(
    (t) => t.outcome === "ok" && (t.answeredAt ?? 0) > restoredAt,
  ).length;
}

describe("a partitioned, then killed primary: WAIT keeps every acknowledged turn", () => {
  it("Sentinel, WAIT 1 (the default): nothing acknowledged is lost, and the app serves the new primary by itself", async () => {
    const run = await runChaosCase("redis-failover", "fixed", options);
    expect(run.outcome).toMatchObject({ struck: true, verdict: "valid", lost: 0 });
    // During the cut no write could be confirmed: answered uncertain and resent, not acknowledged.
    expect(run.load?.errorAnswers.some((a) => a.code === "store_write_uncertain")).toBe(true);
    expect(acknowledgedAfter(run)).toBeGreaterThan(0);
  }, 120_000);

  it("Sentinel, REDIS_WAIT_REPLICAS=0: the turns acknowledged during the cut are lost, and the checker says so", async () => {
    const run = await runChaosCase("redis-failover-no-wait", "fixed", options);
    expect(run.outcome?.struck).toBe(true);
    expect(run.outcome?.verdict).toBe("invalid");
    expect(run.outcome?.lost).toBeGreaterThan(0);
  }, 120_000);

  it("Cluster with a replica per master, WAIT 1 (the default there): nothing acknowledged is lost", async () => {
    const run = await runChaosCase("redis-cluster-failover", "fixed", options);
    expect(run.outcome).toMatchObject({ struck: true, verdict: "valid", lost: 0 });
    expect(run.load?.errorAnswers.some((a) => a.code === "store_write_uncertain")).toBe(true);
  }, 120_000);

  it("Cluster, REDIS_WAIT_REPLICAS=0: the killed master's conversations lose turns", async () => {
    const run = await runChaosCase("redis-cluster-failover-no-wait", "fixed", options);
    expect(run.outcome?.verdict).toBe("invalid");
    expect(run.outcome?.lost).toBeGreaterThan(0);
  }, 120_000);

  it("--redis-sentinel: a worker SIGKILLed with the fixed app on Sentinel loses nothing acknowledged", async () => {
    const run = await runChaosCase("worker-crash", "fixed", { ...options, redisSentinel: true });
    expect(run.outcome).toMatchObject({ struck: true, verdict: "valid", lost: 0, replaced: true });
  }, 120_000);
});
