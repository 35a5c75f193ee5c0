import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../../service/contract.ts";
import { StoreWriteUncertainError } from "../../../service/errors.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import type { ConversationStore } from "../../../service/store/conversation-store.ts";
import { createRedisClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import { ReplicasBehindError, replicaWaitFor } from "../../../service/store/replica-wait.ts";
import { TurnGate } from "../../../service/turns/turn-gate.ts";
import { type ReplicatedRedis, startReplicatedRedis } from "../../helpers/replicated-redis.ts";
import { waitFor } from "../../helpers/wait-for.ts";

const servedBy = { workerId: 1, pid: 1, hostname: "test" };
const message = (turnId: string): ChatMessage => ({
  role: "user",
  content: `q ${turnId}`,
  turnId,
  servedBy,
  at: "",
});

describe("a write acknowledged only once a replica has it (WAIT), against a real primary and replica", () => {
  let redis: ReplicatedRedis;
  let client: Redis;
  let onPrimary: Redis;
  let onReplica: Redis;
  let n = 0;
  const created: string[] = [];
  const newKey = () => {
    const key = `agent-sandbox-test:{wait:${process.pid}:${n++}}`;
    created.push(...Object.values(conversationKeys(key)));
    return key;
  };
  // Long enough for a replica on a loaded machine when it is expected to confirm (WAIT returns
  // as soon as it does); the cases that must come up short pass their own 300 ms.
  const store = (replicas: number, timeoutMs = 5000) =>
    new RedisConversationStore(client, 60, { replicas, timeoutMs });

  beforeAll(async () => {
    redis = await startReplicatedRedis();
    ({ onPrimary, onReplica } = redis);
    client = createRedisClient(redis.primary.url);
    await waitUntilReady(client, 5000);
  });
  afterAll(async () => {
    if (created.length > 0) await onPrimary?.del(...created);
    client?.disconnect();
    await redis?.stop();
  });

  it("acknowledges a write the replica confirmed, sending WAIT right behind it on the same connection", async () => {
    const key = newKey();
    const monitor = await onPrimary.monitor();
    const commands: { client: string; name: string }[] = [];
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      // Not the commands the script itself runs: MONITOR lists those too, from "lua".
      if (!source.includes("lua"))
        commands.push({ client: source, name: String(args[0]).toLowerCase() });
    });
    try {
      expect(await store(1).append(key, [message("a")])).toBe(1);
      await waitFor("MONITOR to show the WAIT", () => commands.some((c) => c.name === "wait"));
    } finally {
      monitor.disconnect();
    }
    const wait = commands.findIndex((c) => c.name === "wait");
    expect(["eval", "evalsha"]).toContain(commands[wait - 1]?.name);
    expect(commands[wait - 1]?.client).toBe(commands[wait]?.client);
    // WAIT returned only once the replica had it: it is there now, no polling needed.
    expect(await onReplica.llen(conversationKeys(key).messages)).toBe(1);
  });

  it("reports a write fewer replicas confirmed as uncertain (503 store_write_uncertain), which it is: the primary has it", async () => {
    const key = newKey();
    const started = Date.now();
    const refused = await store(2, 300)
      .append(key, [message("a")])
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(StoreWriteUncertainError);
    expect((refused as StoreWriteUncertainError).cause).toBeInstanceOf(ReplicasBehindError);
    expect((refused as Error).message).toMatch(/1 of 2 replicas confirmed the write within 300 ms/);
    // WAIT gave up after its timeout, not after the client's own command timeout.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await onPrimary.llen(conversationKeys(key).messages)).toBe(1);
  });

  it("reports a refused fenced append as fenced, not uncertain, whatever the replicas say (nothing was written)", async () => {
    const key = newKey();
    const fence = { token: "1.none", turnId: "a", expectedLength: 0 };
    await expect(store(2, 300).append(key, [message("a")], fence)).rejects.toMatchObject({
      code: "turn_fenced",
    });
    expect(await onPrimary.exists(conversationKeys(key).messages)).toBe(0);
  });

  it("with the replica gone, no write is acknowledged; with REDIS_WAIT_REPLICAS=0 every write is", async () => {
    await redis.detachReplica();
    try {
      const key = newKey();
      await expect(store(1, 300).append(key, [message("a")])).rejects.toBeInstanceOf(
        StoreWriteUncertainError,
      );
      expect(await store(0).append(key, [message("b")])).toBe(2);
    } finally {
      await redis.attachReplica();
    }
  });

  it("acknowledges a retry answered from the store only once replicas have the stored turn", async () => {
    const key = newKey();
    const replicaWait = { replicas: 1, timeoutMs: 1000 };
    const gate = new TurnGate({
      redis: client,
      store: store(1),
      strategy: "reject",
      leaseMs: 5000,
      maxMs: 60_000,
      waitMs: 0,
      ttlSeconds: 60,
      contextWindow: 100,
      replicaWait,
    });
    try {
      const turn = (leased: ConversationStore) => leased.append(key, [message("a")]);
      expect(await gate.run(key, "a", turn)).toMatchObject({ ran: true });
      await redis.detachReplica();
      // Stored on the primary, but no replica to confirm it: the retry is not acknowledged.
      await expect(gate.run(key, "a", turn)).rejects.toBeInstanceOf(StoreWriteUncertainError);
      await redis.attachReplica();
      expect(await gate.run(key, "a", turn)).toMatchObject({ ran: false, position: 0 });
    } finally {
      gate.close();
    }
  });

  it("waits for 1 replica by default on Sentinel, 0 on a lone Redis, and what REDIS_WAIT_REPLICAS says", async () => {
    const base = { REDIS_WAIT_MS: 500, REDIS_WAIT_REPLICAS: undefined, REDIS_SENTINELS: undefined };
    expect(await replicaWaitFor(client, base)).toEqual({ replicas: 0, timeoutMs: 500 });
    expect(await replicaWaitFor(client, { ...base, REDIS_SENTINELS: "127.0.0.1:1" })).toEqual({
      replicas: 1,
      timeoutMs: 500,
    });
    expect(
      await replicaWaitFor(client, {
        ...base,
        REDIS_SENTINELS: "127.0.0.1:1",
        REDIS_WAIT_REPLICAS: 0,
      }),
    ).toEqual({ replicas: 0, timeoutMs: 500 });
    expect(await replicaWaitFor(client, { ...base, REDIS_WAIT_REPLICAS: 2 })).toEqual({
      replicas: 2,
      timeoutMs: 500,
    });
  });
});
