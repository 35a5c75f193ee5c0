import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PrivateRedis, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import { StoreUnavailableError } from "../../../service/errors.ts";
import { createRedisClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { RedisTurnLimitStore } from "../../../service/store/turn-limit-store.ts";
import { waitFor } from "../../helpers/wait-for.ts";

const PREFIX = "agent-sandbox-test:turn-limit:";
const WINDOW = { windowMs: 60_000 } as Parameters<RedisTurnLimitStore["init"]>[0];

/** A fail-fast client, once connected; its connection errors are expected here. */
async function connected(url: string) {
  const client = createRedisClient(url).on("error", () => {});
  await waitUntilReady(client, 5000);
  return client;
}

describe("RedisTurnLimitStore against a real Redis", () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("counts one user's turns in one key with the window's expiry, apart from other users", async () => {
    const client = await connected(redis.url);
    const store = new RedisTurnLimitStore(client, PREFIX);
    await store.init(WINDOW);
    expect((await store.increment("acme:ann")).totalHits).toBe(1);
    expect((await store.increment("acme:ann")).totalHits).toBe(2);
    expect((await store.increment("acme:bob")).totalHits).toBe(1);
    expect(await client.get(`${PREFIX}acme:ann`)).toBe("2");
    const ttl = await client.pttl(`${PREFIX}acme:ann`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    client.disconnect();
  });

  it("with Redis down, a turn is refused as store_unavailable (503), never let through", async () => {
    const client = await connected(redis.url);
    const store = new RedisTurnLimitStore(client, PREFIX);
    await store.init(WINDOW);
    await redis.halt("SIGKILL");
    try {
      await waitFor("the client to see Redis gone", () => client.status !== "ready");
      await expect(store.increment("acme:ann")).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await redis.restart();
      client.disconnect();
    }
  });

  it("an app started before Redis counts once Redis is up (its script load is tried again)", async () => {
    await redis.halt("SIGKILL");
    const client = createRedisClient(redis.url).on("error", () => {});
    try {
      const store = new RedisTurnLimitStore(client, PREFIX);
      // Neither init nor a turn waits for Redis: the turn is refused, and counted once it is up.
      await store.init(WINDOW);
      await expect(store.increment("late:user")).rejects.toBeInstanceOf(StoreUnavailableError);
      await redis.restart();
      await waitFor("the client to connect", () => client.status === "ready");
      expect((await store.increment("late:user")).totalHits).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});
