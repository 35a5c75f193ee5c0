import { existsSync } from "node:fs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisClusterHandle, startLocalRedisCluster } from "../../../lib/processes/redis-cluster.ts";

/** One command on a fresh connection to one node; rejects when nothing listens. */
async function ask(port: number, ...command: [string, ...string[]]): Promise<unknown> {
  const client = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    await client.connect();
    return await client.call(...command);
  } finally {
    client.disconnect();
  }
}

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
      const info = String(await ask(port, "CLUSTER", "INFO"));
      expect(info).toContain("cluster_state:ok");
      expect(info).toContain("cluster_slots_assigned:16384");
      expect(info).toContain("cluster_known_nodes:3");
      expect(info).toContain("cluster_size:3");
    }
  });

  it("stop() ends every node and removes the temp dir", async () => {
    const { ports, dir } = cluster;
    expect(existsSync(dir)).toBe(true);
    await cluster.stop();
    await cluster.stop(); // twice is fine
    expect(existsSync(dir)).toBe(false);
    for (const port of ports) await expect(ask(port, "PING")).rejects.toThrow();
  });
});
