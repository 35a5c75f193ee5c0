import { describe, expect, it } from "vitest";
import { runApp } from "../helpers/run-app.ts";
import { hops, host, turnsMissingEarlierState } from "../helpers/turn-routing.ts";

// Two independent app clusters stand for two machines behind a load balancer.
const load = { replicas: 2, workers: 2, conversations: 12, turns: 6 };
const acknowledged = load.conversations * load.turns;
/** The load test sends every turn after a conversation's first to another worker. */
const hopping = load.conversations * (load.turns - 1);

describe("several hosts", () => {
  it("fixed (Redis): every conversation consistent across both hosts", async () => {
    const { summary, check, load: run } = await runApp("fixed", load);
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    expect(summary.acknowledged).toBe(acknowledged);
    const hostsServing = new Set(run.turns.map((t) => t.servedBy?.hostname));
    const hostsRead = new Set(run.reads.map((r) => r.servedBy?.hostname));
    expect([...hostsServing].sort()).toEqual(["host-1", "host-2"]);
    expect([...hostsRead].sort()).toEqual(["host-1", "host-2"]);
  });

  it("broken (memory): loses turns across hosts", async () => {
    const { summary, check, load: run } = await runApp("broken", load);
    expect(summary.verdict).toBe("invalid");
    expect(summary.acknowledged).toBe(acknowledged);
    expect(hops(run.turns)).toBe(hopping);
    // Each turn lives in one worker's memory and every history is read from every worker of
    // both hosts: every acknowledged turn is missing from some read.
    expect(check.totals.lost).toBe(acknowledged);
    // The worker of each later turn never saw the previous one: all of them are stale.
    expect(check.totals.stale).toBe(hopping);
    expect(check.totals.divergent).toBe(load.conversations);
  });

  it("the file store's limit: with a disk per host, even its fixed variant loses turns", async () => {
    const { summary, check, load: run } = await runApp("fixed", load, "file-store");
    expect(summary.verdict).toBe("invalid");
    expect(summary.acknowledged).toBe(acknowledged);
    // Each turn is on one host's disk only, and every history is read from both hosts:
    // every acknowledged turn is missing from the other host's reads, which disagree.
    expect(check.totals.lost).toBe(acknowledged);
    expect(check.totals.divergent).toBe(load.conversations);
    // The workers of one host share its disk, so a hop to the other worker of the same host
    // sees the history: stale is exactly the turns whose host missed an earlier turn. Which
    // hops cross hosts is up to the scheduler, so this count is taken from the run itself.
    expect(check.totals.stale).toBe(turnsMissingEarlierState(run.turns, host));
  });

  it("fixed on a local 3-master Redis Cluster, across both hosts: valid, nothing changes but configuration", async () => {
    const { summary, check } = await runApp("fixed", { ...load, redisCluster: true });
    expect(check.anomalies).toEqual([]);
    expect(summary.verdict).toBe("valid");
    expect(summary.acknowledged).toBe(acknowledged);
  });
});
