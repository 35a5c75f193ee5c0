import { Redis } from "ioredis";

/**
 * A Redis connection tuned to fail fast. With ioredis defaults a command issued while
 * Redis is down is queued and retried for more than a minute; a chat turn should get a
 * 503 within about a second instead, so the caller knows the turn did not happen.
 */
export function createRedisClient(url: string): Redis {
  return new Redis(url, {
    // Fail a command at once while disconnected instead of queueing it.
    enableOfflineQueue: false,
    // Never resend a command after a dropped connection: a resent append could store a
    // turn twice. The caller reports the outcome as uncertain instead.
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    commandTimeout: 1000,
    // Keep trying to reconnect in the background, at most once a second.
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    // Off: a turn's commands are sequential, so batching gains little, and auto-pipelining
    // defers each command to the next tick (measured: slightly slower with npm run bench).
    enableAutoPipelining: false,
    lazyConnect: false,
  });
}

/** Resolves when the client is ready or after `timeoutMs`, whichever comes first. Never rejects. */
export async function waitUntilReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off("ready", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.on("ready", done);
  });
}
