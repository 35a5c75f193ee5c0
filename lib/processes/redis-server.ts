import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { freePort } from "../net.ts";
import { stopChild } from "./stop-child.ts";

export interface RedisHandle {
  url: string;
  /** True when this process started the server (and so may stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

export class RedisNotInstalledError extends Error {
  constructor() {
    super(
      [
        "redis-server was not found on PATH, and REDIS_URL is not set.",
        "Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)",
        "or point the sandbox at a Redis you run: REDIS_URL=redis://127.0.0.1:6379 npm run demo",
      ].join("\n"),
    );
    this.name = "RedisNotInstalledError";
  }
}

/**
 * Uses `REDIS_URL` when set; otherwise starts a private, throwaway `redis-server`
 * (no persistence, its own temp dir, a free port) and stops it on `stop()`.
 */
export async function ensureRedis(env: NodeJS.ProcessEnv = process.env): Promise<RedisHandle> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, owned: false, stop: async () => {} };
  return startPrivateRedis();
}

export async function startPrivateRedis(): Promise<RedisHandle> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "agent-sandbox-redis-"));
  const child = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // events.once("spawn") would reject on "error"; listen for both by hand.
  const spawned = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    child.once("spawn", () => resolve(null));
    child.once("error", (error) => resolve(error));
  });
  if (spawned?.code === "ENOENT") throw new RedisNotInstalledError();
  if (spawned) throw spawned;

  const url = `redis://127.0.0.1:${port}`;
  await waitForPing(url, child);
  return {
    url,
    owned: true,
    stop: async () => {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on("error", () => {});
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return;
    } catch {
      // Not up yet.
    } finally {
      client.disconnect();
    }
    await sleep(50);
  }
  throw new Error(`redis-server did not answer on ${url} within ${timeoutMs} ms`);
}
