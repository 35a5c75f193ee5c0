import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { startAppCluster, waitForStore, workerPids } from "../../lab/processes/app-cluster.ts";
import { startPrivateRedis } from "../../lab/processes/redis-server.ts";
import { issueToken } from "../../service/auth/tokens.ts";
import type { MessagesResponse, TurnResponse } from "../../service/contract.ts";
import { heldModelReply, startHeldModel } from "../helpers/held-model.ts";
import { client } from "../helpers/http.ts";
import { settledFlag, waitFor } from "../helpers/wait-for.ts";

const SECRET = "cluster-test-secret";

/** Whether a connection to `port` is refused right now: nothing listens there any more. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

/**
 * Resolves once every worker has stopped accepting: the primary closes the shared port when
 * the last of them closes its server, which a draining worker does after its grace period.
 */
const waitUntilNotAccepting = (port: number) =>
  waitFor(`the cluster on port ${port} to stop accepting connections`, () => refused(port), {
    everyMs: 20,
  });

// The turns in flight are held by the model (a fake OpenAI-compatible server in this process)
// until the test releases them: the test waits for the workers to have asked the model (the
// turn is being handled), then for the cluster to stop accepting (it is draining), and only then
// lets the turns finish. No fixed latency or sleep decides whether a turn is still in flight.
describe("the cluster runner", () => {
  it("replaces a worker that dies", async () => {
    const app = await startAppCluster({ app: "broken", scenario: "memory", workers: 2 });
    try {
      const before = await workerPids(app.url, 6);
      expect(before.size).toBe(2);
      const [victim] = before;
      process.kill(victim as number, "SIGKILL");
      let after = new Set<number>();
      await waitFor(
        "a replacement worker",
        async () => {
          after = await workerPids(app.url, 4);
          return after.size === 2 && !after.has(victim as number);
        },
        { timeoutMs: 45_000, everyMs: 100 },
      );
      expect(after.size).toBe(2);
      expect(after.has(victim as number)).toBe(false);
    } finally {
      await app.stop();
    }
  });

  it("lets an in-flight turn finish when asked to stop (SIGTERM drains)", async () => {
    const model = await startHeldModel();
    try {
      const app = await startAppCluster({
        app: "broken",
        scenario: "memory",
        workers: 2,
        env: { AUTH_SECRET: SECRET, ...model.env() },
      });
      const api = client(app.url, issueToken({ tenant: "t", user: "drain" }, SECRET));
      const inFlight = api.turn("drain", { text: "finish me" });
      const inFlightState = settledFlag(inFlight);
      // A worker is handling the turn: it asked the model, which holds the reply.
      await model.waitForAsks(1);
      expect(model.asked).toEqual(["finish me"]);
      const stopped = app.stop();
      // Draining: no worker accepts any more, and the turn is still in flight.
      await waitUntilNotAccepting(app.port);
      expect(inFlightState.settled).toBe(false);
      model.release();
      const res = await inFlight;
      await stopped;
      expect(res.status).toBe(200);
      expect((res.body as TurnResponse).reply).toContain("finish me");
      expect((res.body as TurnResponse).reply).toBe(heldModelReply("finish me"));
    } finally {
      model.release();
      await model.close();
    }
  });

  it("a fixed app stopped with SIGTERM answers every in-flight turn and has stored each one", async () => {
    const redis = await startPrivateRedis();
    const model = await startHeldModel();
    const env = { AUTH_SECRET: SECRET, REDIS_URL: redis.url, ...model.env() };
    const identity = { tenant: "t", user: `drain-fixed-${process.pid}` };
    const token = issueToken(identity, SECRET);
    try {
      const app = await startAppCluster({ app: "fixed", scenario: "memory", workers: 2, env });
      await waitForStore(app.url, 2);
      const api = client(app.url, token);
      // Fresh connections: the primary spreads them over both workers.
      const ids = ["d1", "d2", "d3", "d4"];
      const inFlight = ids.map((id) => api.turn(id, { text: `finish ${id}` }));
      const states = inFlight.map(settledFlag);
      // Every turn is being handled: each has asked the model, which holds the replies.
      await model.waitForAsks(ids.length);
      expect([...model.asked].sort()).toEqual(ids.map((id) => `finish ${id}`));
      const stopped = app.stop();
      // Draining: no worker accepts any more, and every turn is still in flight.
      await waitUntilNotAccepting(app.port);
      expect(states.map((state) => state.settled)).toEqual([false, false, false, false]);
      model.release();
      const answers = await Promise.all(inFlight);
      await stopped;
      expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 200]);
      const pids = new Set(answers.map((res) => (res.body as TurnResponse).servedBy.pid));
      expect(pids.size).toBe(2);

      // A new app on the same Redis finds every acknowledged turn.
      const again = await startAppCluster({ app: "fixed", scenario: "memory", workers: 1, env });
      try {
        const reader = client(again.url, token);
        for (const [i, id] of ids.entries()) {
          const history = (await reader.messages(id)).body as MessagesResponse;
          expect(history.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
          expect(history.messages[0]?.content).toBe(`finish ${id}`);
          expect(history.messages[1]?.content).toBe(heldModelReply(`finish ${id}`));
          const answer = answers[i]?.body as TurnResponse | undefined;
          expect(history.messages[1]?.content).toBe(answer?.reply);
        }
      } finally {
        await again.stop();
      }
    } finally {
      model.release();
      await model.close();
      await redis.stop();
    }
  });
});
