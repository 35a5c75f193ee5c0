import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { issueToken } from "../../lib/auth.ts";
import { requestJson } from "../../lib/load/http-json.ts";
import { startAppCluster } from "../../lib/processes/app-cluster.ts";
import type { HealthResponse, TurnResponse } from "../../lib/types.ts";
import { client } from "../helpers/http.ts";

const SECRET = "cluster-test-secret";

async function workerPids(url: string, asks: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < asks; i++) {
    const res = await requestJson(`${url}/healthz`, { timeoutMs: 2000 }).catch(() => undefined);
    if (res?.status === 200) pids.add((res.body as HealthResponse).servedBy.pid);
  }
  return pids;
}

describe("the cluster runner", () => {
  it("replaces a worker that dies", async () => {
    const app = await startAppCluster({ app: "broken", scenario: "memory", workers: 2 });
    try {
      const before = await workerPids(app.url, 6);
      expect(before.size).toBe(2);
      const [victim] = before;
      process.kill(victim as number, "SIGKILL");
      let after = new Set<number>();
      for (let attempt = 0; attempt < 100; attempt++) {
        after = await workerPids(app.url, 4);
        if (after.size === 2 && !after.has(victim as number)) break;
        await sleep(100);
      }
      expect(after.size).toBe(2);
      expect(after.has(victim as number)).toBe(false);
    } finally {
      await app.stop();
    }
  });

  it("lets an in-flight turn finish when asked to stop (SIGTERM drains)", async () => {
    const app = await startAppCluster({
      app: "broken",
      scenario: "memory",
      workers: 2,
      // A slow agent keeps the turn in flight while the cluster is told to stop.
      env: { AUTH_SECRET: SECRET, AGENT_LATENCY_MS: "1500" },
    });
    const api = client(app.url, issueToken({ tenant: "t", user: "drain" }, SECRET));
    const inFlight = api.turn("drain", { text: "finish me" });
    await sleep(300);
    const stopped = app.stop();
    const res = await inFlight;
    await stopped;
    expect(res.status).toBe(200);
    expect((res.body as TurnResponse).reply).toContain("finish me");
  });
});
