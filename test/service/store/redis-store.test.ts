import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../lab/processes/free-port.ts";
import { ensureRedis, type RedisHandle } from "../../../lab/processes/redis-server.ts";
import type { ChatMessage } from "../../../service/contract.ts";
import { StoreUnavailableError, StoreWriteUncertainError } from "../../../service/errors.ts";
import { createRedisClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";

const servedBy = { workerId: 1, pid: 1, hostname: "test" };
const message = (role: ChatMessage["role"], content: string, turnId: string): ChatMessage => ({
  role,
  content,
  turnId,
  servedBy,
  at: new Date(0).toISOString(),
});

describe("RedisConversationStore against a real Redis", () => {
  let redis: RedisHandle;
  let inspector: Redis;
  let store: RedisConversationStore;
  const key = `agent-sandbox-test:{store:${Date.now()}}`;
  const listKey = RedisConversationStore.messagesKey(key);

  beforeAll(async () => {
    redis = await ensureRedis();
    inspector = new Redis(redis.url);
    const client = createRedisClient(redis.url);
    await waitUntilReady(client, 5000);
    store = new RedisConversationStore(client, 60);
  });
  afterAll(async () => {
    await inspector?.del(listKey);
    inspector?.disconnect();
    await store?.close();
    await redis?.stop();
  });

  it("appends a turn's messages in order, as one step, and sets the idle expiry", async () => {
    expect(await store.load(key)).toEqual([]);
    expect(
      await store.append(key, [message("user", "hi", "t1"), message("assistant", "hello", "t1")]),
    ).toBe(2);
    expect(
      await store.append(key, [message("user", "more", "t2"), message("assistant", "ok", "t2")]),
    ).toBe(4);
    expect((await store.load(key)).map((m) => m.content)).toEqual(["hi", "hello", "more", "ok"]);
    const ttl = await inspector.ttl(listKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await store.ping()).toBe(true);
  });

  it("reports a write that was sent but not confirmed as uncertain, never as 'not stored'", async (ctx) => {
    if (!redis.owned) ctx.skip();
    const uncertainKey = `${key}:uncertain`;
    // Redis holds writes for 1.5 s: longer than the client's 1 s command timeout.
    await inspector.call("CLIENT", "PAUSE", "1500", "WRITE");
    const failure = await store
      .append(uncertainKey, [message("user", "maybe", "t9")])
      .catch((e) => e);
    expect(failure).toBeInstanceOf(StoreWriteUncertainError);
    expect(failure).toMatchObject({ code: "store_write_uncertain" });
    // ...and indeed the write lands once Redis resumes: "timed out" did not mean "not stored".
    await sleep(1000);
    expect(await inspector.llen(RedisConversationStore.messagesKey(uncertainKey))).toBe(1);
    await inspector.del(RedisConversationStore.messagesKey(uncertainKey));
  });
});

describe("RedisConversationStore when Redis is down", () => {
  it("fails at once with a definite StoreUnavailableError and pings false", async () => {
    const client = createRedisClient(`redis://127.0.0.1:${await freePort()}`);
    client.on("error", () => {});
    const store = new RedisConversationStore(client, 60);
    try {
      await expect(store.load("k")).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.load("k")).rejects.toMatchObject({
        code: "store_unavailable",
      });
      await expect(store.append("k", [message("user", "x", "t")])).rejects.toMatchObject({
        code: "store_unavailable",
      });
      expect(await store.ping()).toBe(false);
    } finally {
      client.disconnect();
    }
  });
});
