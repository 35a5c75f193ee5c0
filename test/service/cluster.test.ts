import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { startAppCluster, waitForStore, workerPids } from "../../lab/processes/app-cluster.ts";
import { startPrivateRedis } from "../../lab/processes/redis-server.ts";
import { issueToken } from "../../service/auth/tokens.ts";
import type { MessagesResponse, TurnResponse } from "../../service/contract.ts";
import { client } from "../helpers/http.ts";

const SECRET = "cluster-test-secret";

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

  it("a fixed app stopped with SIGTERM answers every in-flight turn and has stored each one", async () => {
    const redis = await startPrivateRedis();
    const env = { AUTH_SECRET: SECRET, REDIS_URL: redis.url, AGENT_LATENCY_MS: "1500" };
    const identity = { tenant: "t", user: `drain-fixed-${process.pid}` };
    const token = issueToken(identity, SECRET);
    try {
      const app = await startAppCluster({ app: "fixed", scenario: "memory", workers: 2, env });
      await waitForStore(app.url, 2);
      const api = client(app.url, token);
      // Fresh connections: the primary spreads them over both workers.
      const ids = ["d1", "d2", "d3", "d4"];
      const inFlight = ids.map((id) => api.turn(id, { text: `finish ${id}` }));
      await sleep(400);
      const stopped = app.stop();
      const answers = await Promise.all(inFlight);
      await stopped;
      expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200]);
      const pids = new Set(answers.map((res) => (res.body as TurnResponse).servedBy.pid));
      expect(pids.size).toBe(2);

      // A new app on the same Redis finds every acknowledged turn.
      const again = await startAppCluster({ app: "fixed", scenario: "memory", workers: 1, env });
      try {
        const reader = client(again.url, token);
        for (const id of ids) {
          const history = (await reader.messages(id)).body as MessagesResponse;
          expect(history.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
          expect(history.messages[0]?.content).toBe(`finish ${id}`);
        }
      } finally {
        await again.stop();
      }
    } finally {
      await redis.stop();
    }
  });
});
