import { describe, expect, it } from "vitest";
import { runApp } from "../helpers/run-app.ts";

// Two independent app clusters stand for two machines behind a load balancer.
const load = { replicas: 2, workers: 2, conversations: 12, turns: 6 };

describe("several hosts", () => {
  it("fixed (Redis): every conversation consistent across both hosts", async () => {
    const { summary, check, load: run } = await runApp("fixed", load);
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    const hostsServing = new Set(run.turns.map((t) => t.servedBy?.hostname));
    const hostsRead = new Set(run.reads.map((r) => r.servedBy?.hostname));
    expect([...hostsServing].sort()).toEqual(["host-1", "host-2"]);
    expect([...hostsRead].sort()).toEqual(["host-1", "host-2"]);
  });

  it("broken (memory): loses turns across hosts", async () => {
    const { summary, check } = await runApp("broken", load);
    expect(summary.verdict).toBe("invalid");
    expect(check.totals.lost).toBeGreaterThan(0);
  });

  it("the file store's limit: with a disk per host, even its fixed variant loses turns", async () => {
    const { summary, check } = await runApp("fixed", load, "file-store");
    expect(summary.verdict).toBe("invalid");
    expect(check.totals.lost + check.totals.stale).toBeGreaterThan(0);
  });

  it("fixed on a local 3-master Redis Cluster, across both hosts: valid, nothing changes but configuration", async () => {
    const { summary, check } = await runApp("fixed", { ...load, redisCluster: true });
    expect(check.anomalies).toEqual([]);
    expect(summary.verdict).toBe("valid");
    expect(summary.acknowledged).toBe(12 * 6);
  });
});
