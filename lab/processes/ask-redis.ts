import type { ConnectionOptions } from "node:tls";
import { Redis } from "ioredis";

/**
 * A Redis URL, or one node's address, with the password and TLS options it may need (a
 * `rediss://` URL alone trusts only the system's CAs: use the address form for a private CA).
 */
export type RedisTarget =
  | string
  | { host: string; port: number; password?: string; tls?: ConnectionOptions };

/**
 * One command on a fresh, short-lived connection that never retries: for probing a Redis
 * that may not be up yet. Rejects when nothing answers within about a second.
 */
export async function askRedis(
  target: RedisTarget,
  command: string,
  ...args: string[]
): Promise<unknown> {
  const options = {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 1000,
  };
  const client =
    typeof target === "string" ? new Redis(target, options) : new Redis({ ...target, ...options });
  client.on("error", () => {});
  try {
    await client.connect();
    return await client.call(command, ...args);
  } finally {
    client.disconnect();
  }
}
