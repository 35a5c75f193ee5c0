import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRun } from "../../../lab/check/checker.ts";
import { runLoad } from "../../../lab/load/run-load.ts";
import {
  type AppCluster,
  startAppCluster,
  waitForStore,
} from "../../../lab/processes/app-cluster.ts";
import { askRedis } from "../../../lab/processes/ask-redis.ts";
import {
  type RedisClusterHandle,
  startLocalRedisCluster,
} from "../../../lab/processes/redis-cluster.ts";
import { conversationKey } from "../../../service/auth/conversation-key.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import type { ChatMessage, TurnResponse } from "../../../service/contract.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import { createRedisClusterClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { client } from "../../helpers/http.ts";
import { keySlot, masterPortOf } from "./cluster-helpers.ts";

const SECRET = "cluster-test-secret";
const PREFIX = `agent-sandbox-cluster-test-${process.pid}:`;
const WORKERS = 4;

describe("the fixed app (4 workers) on a real Redis Cluster (3 masters)", () => {
  let redis: RedisClusterHandle;
  let app: AppCluster;
  let inspector: ReturnType<typeof createRedisClusterClient>;

  beforeAll(async () => {
    redis = await startLocalRedisCluster();
    inspector = createRedisClusterClient(redis.nodes);
    await waitUntilReady(inspector, 5000);
    app = await startAppCluster({
      app: "fixed",
      scenario: "memory",
      workers: WORKERS,
      env: {
        REDIS_CLUSTER_NODES: redis.nodes,
        // Not used: REDIS_CLUSTER_NODES wins. Points nowhere, so a fallback would show.
        REDIS_URL: "redis://127.0.0.1:1",
        REDIS_KEY_PREFIX: PREFIX,
        AUTH_SECRET: SECRET,
        AGENT_LATENCY_MS: "1",
      },
    });
    // Every worker connected to the cluster before the first turn.
    await waitForStore(app.url, WORKERS);
  });
  afterAll(async () => {
    await app?.stop();
    inspector?.disconnect();
    await redis?.stop();
  });

  it("answers turns of conversations on different masters, keeps their history, messagesSeen 1, 3, 5", async () => {
    const identity = { tenant: "acme:eu", user: "{ann}" };
    const api = client(app.url, issueToken(identity, SECRET));
    const ids = Array.from({ length: 6 }, (_, i) => `trip-${i}`);

    // Where each conversation lives: its slot and the master that serves it.
    const masterOf = new Map<string, number>();
    for (const id of ids) {
      const key = conversationKey(PREFIX, identity, id);
      masterOf.set(id, await masterPortOf(inspector, await keySlot(inspector, key)));
    }
    expect(new Set(masterOf.values()).size).toBeGreaterThanOrEqual(2);

    const workers = new Set<number>();
    for (const turn of [1, 2, 3]) {
      for (const id of ids) {
        // A fresh connection per request: turns land on any worker.
        const { status, body } = await api.turn(id, { text: `turn ${turn} of ${id}` });
        expect(status, JSON.stringify(body)).toBe(200);
        const answer = body as TurnResponse;
        expect(answer.messagesSeen).toBe(2 * turn - 1);
        workers.add(answer.servedBy.pid);
      }
    }
    expect(workers.size).toBeGreaterThan(1);

    for (const id of ids) {
      const expected = [1, 2, 3].map((turn) => `turn ${turn} of ${id}`);
      // Read back several times: every worker returns the whole history.
      for (let read = 0; read < WORKERS; read++) {
        const { status, body } = await api.messages(id);
        expect(status).toBe(200);
        const messages = (body as { messages: ChatMessage[] }).messages;
        expect(messages.map((m) => m.role)).toEqual([
          "user",
          "assistant",
          "user",
          "assistant",
          "user",
          "assistant",
        ]);
        expect(messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(expected);
      }
      // The history is stored on the master that serves the conversation's slot.
      const keys = conversationKeys(conversationKey(PREFIX, identity, id));
      const master = { host: "127.0.0.1", port: masterOf.get(id) ?? 0 };
      expect(await askRedis(master, "LLEN", keys.messages)).toBe(6);
    }
  });

  it("keeps every turn under overlap 3 and 10% retries: verdict valid, zero anomalies", async () => {
    const identity = { tenant: "load", user: `cluster-${process.pid}` };
    const token = issueToken(identity, SECRET);
    const load = await runLoad({
      url: app.url,
      token,
      overlap: 3,
      retryRate: 0.1,
      conversations: 12,
      turns: 4,
      connections: 8,
      workers: WORKERS,
      sticky: false,
      timeoutSeconds: 10,
      maxSeconds: 60,
      progress: false,
    });
    const check = checkRun(load);
    expect(check.anomalies).toEqual([]);
    expect(check.verdict, check.reasons.join("; ")).toBe("valid");
    expect(check.totals.acknowledged).toBe(12 * 4);
    expect(check.totals.workersServingTurns).toBeGreaterThan(1);
    // The run did overlap and retry, over conversations kept on several masters.
    expect(load.turns.some((turn) => (turn.attempts ?? 1) > 1)).toBe(true);
    const masters = new Set<number>();
    for (const id of new Set(load.turns.map((turn) => turn.conversationId))) {
      const key = conversationKey(PREFIX, identity, id);
      masters.add(await masterPortOf(inspector, await keySlot(inspector, key)));
    }
    expect(masters.size).toBeGreaterThanOrEqual(2);
  });
});
