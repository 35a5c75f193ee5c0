import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  ensureRedis,
  type PrivateRedis,
  type RedisPersistence,
  startPrivateRedis,
} from "../../../lab/processes/redis-server.ts";

/** Writes a key, SIGKILLs the server, restarts it on the same port and dir, reads the key back. */
async function survivesSigkill(persistence: RedisPersistence): Promise<string | null> {
  const redis: PrivateRedis = await startPrivateRedis({ persistence });
  try {
    const before = new Redis(redis.url);
    await before.set("survivor", "still here");
    before.disconnect();
    const pid = redis.pid();
    await redis.halt("SIGKILL");
    expect(redis.pid()).toBeUndefined();
    await redis.restart();
    expect(redis.pid()).not.toBe(pid);
    const after = new Redis(redis.url);
    try {
      return await after.get("survivor");
    } finally {
      after.disconnect();
    }
  } finally {
    await redis.stop();
  }
}

describe("the private redis-server", () => {
  it("with appendfsync always keeps an acknowledged write through SIGKILL and restart", async () => {
    expect(await survivesSigkill("aof-always")).toBe("still here");
  });

  it("without persistence comes back empty (what the chaos check must catch)", async () => {
    expect(await survivesSigkill("none")).toBeNull();
  });

  it("takes its persistence from REDIS_PERSISTENCE, and refuses an unknown one", async () => {
    const redis = await ensureRedis({ REDIS_PERSISTENCE: "aof-everysec" });
    const client = new Redis(redis.url);
    try {
      expect(await client.config("GET", "appendfsync")).toEqual(["appendfsync", "everysec"]);
      expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
    } finally {
      client.disconnect();
      await redis.stop();
    }
    await expect(ensureRedis({ REDIS_PERSISTENCE: "sometimes" })).rejects.toThrow(
      /REDIS_PERSISTENCE must be one of/,
    );
  });
});
