import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askRedis } from "../../../lab/processes/ask-redis.ts";
import {
  type RedisSentinelHandle,
  RedisSentinelNotReadyError,
  startRedisSentinel,
} from "../../../lab/processes/redis-sentinel.ts";
import { RedisNotInstalledError } from "../../../lab/processes/redis-server.ts";
import { waitFor } from "../../helpers/wait-for.ts";

const at = (port: number) => ({ host: "127.0.0.1", port });
const get = (port: number, key: string) => askRedis(at(port), "GET", key);

/** What a client that never sent a password is told when it reads. */
async function readWithoutPassword(port: number): Promise<string> {
  // No ready check: ioredis's own INFO would fail first and hide the server's answer.
  const client = new Redis({ ...at(port), enableReadyCheck: false, retryStrategy: () => null });
  client.on("error", () => {});
  try {
    return await client.get("x").then(String, (error: Error) => error.message);
  } finally {
    client.disconnect();
  }
}

describe("startRedisSentinel (real redis-server and redis-sentinel)", () => {
  let lab: RedisSentinelHandle;
  let primary: Redis;

  beforeAll(async () => {
    lab = await startRedisSentinel();
    // No reconnecting: this primary is killed at the end.
    primary = new Redis({ ...at(lab.ports[0] ?? 0), retryStrategy: () => null });
    primary.on("error", () => {});
  });
  afterAll(async () => {
    primary?.disconnect();
    await lab?.stop();
  });

  it("starts a primary, two replicas and three sentinels that agree on the primary", async () => {
    expect(lab.name).toBe("mymaster");
    expect(lab.ports).toHaveLength(3);
    expect(lab.sentinels).toBe(lab.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(","));
    expect(lab.sentinelPorts).toHaveLength(3);
    expect(await lab.primary()).toEqual(at(lab.ports[0] ?? 0));
  });

  it("replicates a write on the primary to every replica", async () => {
    await primary.set("reached", "everyone");
    for (const port of lab.ports.slice(1))
      await waitFor(
        `the write on replica ${port}`,
        async () => (await get(port, "reached")) === "everyone",
      );
  });

  it("with replication cut, keeps a write on the primary alone; after restore it reaches the replicas", async () => {
    await lab.cutReplication();
    await primary.set("while-cut", "primary only");
    // WAIT gives the replicas half a second to acknowledge: none can.
    expect(await primary.wait(1, 500)).toBe(0);
    for (const port of lab.ports.slice(1)) {
      const info = String(await askRedis(at(port), "INFO", "replication"));
      expect(info).toContain("master_link_status:down");
      expect(await get(port, "while-cut")).toBeNull();
    }
    await lab.restoreReplication();
    for (const port of lab.ports.slice(1))
      await waitFor(
        `the write on replica ${port} after restore`,
        async () => (await get(port, "while-cut")) === "primary only",
      );
  });

  it("after killPrimary(), waitForPromotion() names a replica that now takes writes", async () => {
    const killed = await lab.primary();
    expect(killed).toEqual(at(lab.ports[0] ?? 0));
    await lab.killPrimary();
    const promoted = await lab.waitForPromotion(30_000);
    expect(promoted.port).not.toBe(killed.port);
    expect(lab.ports.slice(1)).toContain(promoted.port);
    expect(await lab.primary()).toEqual(promoted);
    expect(await askRedis(promoted, "SET", "after-failover", "yes")).toBe("OK");
    expect(await askRedis(promoted, "GET", "while-cut")).toBe("primary only");
  });
});

// Its own small setup: the one above ends with its primary killed.
describe("startRedisSentinel with a password, and its stop()", () => {
  it("refuses a client without the password, and stop() leaves no process and no dir", async () => {
    const lab = await startRedisSentinel({ password: "s3cret", replicas: 1, sentinels: 1 });
    try {
      const [primaryPort = 0, replicaPort = 0] = lab.ports;
      expect(await readWithoutPassword(primaryPort)).toMatch(/^NOAUTH/);
      expect(await readWithoutPassword(replicaPort)).toMatch(/^NOAUTH/);
      expect(await askRedis(`redis://:s3cret@127.0.0.1:${primaryPort}`, "PING")).toBe("PONG");
      expect(existsSync(lab.dir)).toBe(true);
      await lab.stop();
      await lab.stop(); // twice is fine
      expect(existsSync(lab.dir)).toBe(false);
      for (const port of [...lab.ports, ...lab.sentinelPorts])
        await expect(askRedis(at(port), "PING")).rejects.toThrow();
    } finally {
      await lab.stop();
    }
  });
});

describe("startRedisSentinel's deadline", () => {
  it("names the condition that did not hold in time", async () => {
    const started = startRedisSentinel({ replicas: 1, sentinels: 1, timeoutMs: 1 });
    await expect(started).rejects.toBeInstanceOf(RedisSentinelNotReadyError);
    await expect(started).rejects.toThrow(/not ready within 1 ms: replicas in sync: /);
  });
});

describe("startRedisSentinel without redis-server", () => {
  const originalPath = process.env.PATH;
  let empty: string;

  beforeAll(async () => {
    empty = await mkdtemp(join(tmpdir(), "agent-sandbox-path-"));
  });
  afterAll(async () => {
    process.env.PATH = originalPath;
    await rm(empty, { recursive: true, force: true });
  });

  it("says redis-server is missing", async () => {
    process.env.PATH = empty;
    try {
      await expect(startRedisSentinel()).rejects.toBeInstanceOf(RedisNotInstalledError);
    } finally {
      process.env.PATH = originalPath;
    }
  });
});
