import { existsSync } from "node:fs";
import { mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askRedis } from "../../../lab/processes/ask-redis.ts";
import {
  type RedisClusterHandle,
  RedisClusterToolMissingError,
  startLocalRedisCluster,
} from "../../../lab/processes/redis-cluster.ts";
import { waitFor } from "../../helpers/wait-for.ts";

describe("startLocalRedisCluster (real redis-server and redis-cli)", () => {
  let cluster: RedisClusterHandle;

  beforeAll(async () => {
    cluster = await startLocalRedisCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("starts three masters that share all 16384 slots, and lists them as REDIS_CLUSTER_NODES", async () => {
    expect(cluster.ports).toHaveLength(3);
    expect(cluster.nodes).toBe(cluster.ports.map((port) => `127.0.0.1:${port}`).join(","));
    for (const port of cluster.ports) {
      const info = String(await askRedis({ host: "127.0.0.1", port }, "CLUSTER", "INFO"));
      expect(info).toContain("cluster_state:ok");
      expect(info).toContain("cluster_slots_assigned:16384");
      expect(info).toContain("cluster_known_nodes:3");
      expect(info).toContain("cluster_size:3");
    }
  });
});

/** A key that the master on `port` serves: the first one it does not answer MOVED for. */
async function keyServedBy(client: Redis): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const key = `key-${i}`;
    if ((await client.set(key, "first").catch((error: Error) => error.message)) === "OK")
      return key;
  }
  throw new Error("no key found on this master");
}

describe("startLocalRedisCluster with a replica per master", () => {
  let cluster: RedisClusterHandle;
  let master: number;
  let client: Redis;
  let key: string;

  beforeAll(async () => {
    cluster = await startLocalRedisCluster({ replicas: 1 });
    [master = 0] = await cluster.masters();
    // No reconnecting: this master is killed at the end.
    client = new Redis({ host: "127.0.0.1", port: master, retryStrategy: () => null });
    client.on("error", () => {});
    key = await keyServedBy(client);
  });
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it("starts three masters with one replica each, every replica in sync", async () => {
    expect(cluster.replicas).toBe(1);
    expect(cluster.ports).toHaveLength(6);
    expect(cluster.nodes.split(",")).toHaveLength(6);
    expect(await cluster.masters()).toHaveLength(3);
    let replicas = 0;
    for (const port of cluster.ports) {
      const info = String(await askRedis({ host: "127.0.0.1", port }, "CLUSTER", "INFO"));
      expect(info).toContain("cluster_state:ok");
      expect(info).toContain("cluster_known_nodes:6");
      expect(info).toContain("cluster_size:3");
      const replication = String(
        await askRedis({ host: "127.0.0.1", port }, "INFO", "replication"),
      );
      if (replication.includes("role:slave")) {
        replicas++;
        expect(replication).toContain("master_link_status:up");
      }
    }
    expect(replicas).toBe(3);
  });

  it("with replication cut, a master's write reaches no replica until restore", async () => {
    expect(await client.wait(1, 5000)).toBe(1);
    await cluster.cutReplication();
    await client.set(key, "while cut");
    // WAIT gives the replica half a second to acknowledge: it cannot.
    expect(await client.wait(1, 500)).toBe(0);
    await cluster.restoreReplication();
    await waitFor(
      "the replica to acknowledge after restore",
      async () => (await client.wait(1, 100)) === 1,
    );
  });

  it("promotes the replica of a killed master, and writes to its slots work again", async () => {
    const killed = await cluster.killMaster(master);
    expect(killed).toBe(master);
    const promoted = await cluster.waitForPromotion(killed, 30_000);
    expect(promoted).not.toBe(killed);
    expect(await cluster.masters()).toContain(promoted);
    expect(await cluster.masters()).not.toContain(killed);
    expect(await askRedis({ host: "127.0.0.1", port: promoted }, "GET", key)).toBe("while cut");
    expect(await askRedis({ host: "127.0.0.1", port: promoted }, "SET", key, "after")).toBe("OK");
  });
});

// Its own cluster: stopping the one the tests above share would make them depend on order.
describe("startLocalRedisCluster's stop()", () => {
  it("stop() ends every node and removes the temp dir", async () => {
    const own = await startLocalRedisCluster();
    try {
      const { ports, dir } = own;
      expect(existsSync(dir)).toBe(true);
      for (const port of ports)
        expect(await askRedis({ host: "127.0.0.1", port }, "PING")).toBe("PONG");
      await own.stop();
      await own.stop(); // twice is fine
      expect(existsSync(dir)).toBe(false);
      for (const port of ports)
        await expect(askRedis({ host: "127.0.0.1", port }, "PING")).rejects.toThrow();
    } finally {
      await own.stop();
    }
  });
});

describe("startLocalRedisCluster without the Redis tools", () => {
  const originalPath = process.env.PATH;
  let bin: string;

  beforeAll(async () => {
    // A PATH holding redis-cli only.
    bin = await mkdtemp(join(tmpdir(), "agent-sandbox-path-"));
    const cli = (originalPath ?? "")
      .split(delimiter)
      .map((dir) => join(dir, "redis-cli"))
      .find((file) => existsSync(file));
    if (!cli) throw new Error("redis-cli is not on PATH");
    await symlink(cli, join(bin, "redis-cli"));
  });
  afterAll(async () => {
    process.env.PATH = originalPath;
    await rm(bin, { recursive: true, force: true });
  });

  it("says redis-cli is missing, and how to get it", async () => {
    process.env.PATH = join(bin, "nothing-here");
    try {
      const started = startLocalRedisCluster();
      await expect(started).rejects.toBeInstanceOf(RedisClusterToolMissingError);
      await expect(started).rejects.toThrow(
        /redis-cli was not found on PATH[\s\S]*apt-get install redis-server/,
      );
    } finally {
      process.env.PATH = originalPath;
    }
  });

  it("says redis-server is missing", async () => {
    process.env.PATH = bin;
    try {
      await expect(startLocalRedisCluster()).rejects.toThrow(/redis-server was not found on PATH/);
    } finally {
      process.env.PATH = originalPath;
    }
  });
});
