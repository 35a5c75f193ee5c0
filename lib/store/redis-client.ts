import { Cluster, Redis } from "ioredis";
import type { AppConfig } from "../config.ts";

/** What the store and the turn gate run on: one Redis, or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** Fail fast: a command issued while Redis is unreachable fails within about a second. */
const FAIL_FAST_TIMEOUT_MS = 1000;
/** Keep trying to reconnect in the background, at most once a second. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, FAIL_FAST_TIMEOUT_MS);

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
    connectTimeout: FAIL_FAST_TIMEOUT_MS,
    commandTimeout: FAIL_FAST_TIMEOUT_MS,
    retryStrategy: reconnectDelay,
    // Off: a turn's commands are sequential, so batching gains little, and auto-pipelining
    // defers each command to the next tick (measured: slightly slower with npm run bench).
    enableAutoPipelining: false,
    lazyConnect: false,
  });
}

/** `"127.0.0.1:7000,127.0.0.1:7001"` -> the startup nodes of a cluster client. */
export function parseClusterNodes(nodes: string): { host: string; port: number }[] {
  const parsed = nodes
    .split(",")
    .map((node) => node.trim())
    .filter((node) => node !== "")
    .map((node) => {
      const match = /^(.+):(\d{1,5})$/.exec(node);
      const port = Number(match?.[2]);
      if (!match?.[1] || port < 1 || port > 65535) {
        throw new Error(`REDIS_CLUSTER_NODES: "${node}" is not host:port`);
      }
      return { host: match[1], port };
    });
  if (parsed.length === 0) throw new Error("REDIS_CLUSTER_NODES: no host:port given");
  return parsed;
}

/**
 * A Redis Cluster client with the same fail-fast behaviour as createRedisClient. Any one
 * reachable node is enough to start: the client learns the others and the slot map from it.
 * It only follows the cluster's own refusals (MOVED, ASK, TRYAGAIN, CLUSTERDOWN: the command
 * did not run, so resending it is safe); a command whose connection dropped is never resent.
 */
export function createRedisClusterClient(nodes: string): Cluster {
  return new Cluster(parseClusterNodes(nodes), {
    // Fail a command at once while the cluster is not ready instead of queueing it.
    enableOfflineQueue: false,
    // The default (100 ms) resends a command whose connection closed: a resent append could
    // store a turn twice (or be fenced after it was stored). 0 = report it as uncertain.
    retryDelayOnFailover: 0,
    clusterRetryStrategy: reconnectDelay,
    slotsRefreshTimeout: FAIL_FAST_TIMEOUT_MS,
    enableAutoPipelining: false,
    lazyConnect: false,
    // The connection to each node.
    redisOptions: {
      maxRetriesPerRequest: 0,
      connectTimeout: FAIL_FAST_TIMEOUT_MS,
      commandTimeout: FAIL_FAST_TIMEOUT_MS,
      enableAutoPipelining: false,
    },
  });
}

/** The fixed app's client: a Cluster when REDIS_CLUSTER_NODES is set, else one Redis at REDIS_URL. */
export function createStoreClient(
  config: Pick<AppConfig, "REDIS_URL" | "REDIS_CLUSTER_NODES">,
): RedisClient {
  if (config.REDIS_CLUSTER_NODES) return createRedisClusterClient(config.REDIS_CLUSTER_NODES);
  if (config.REDIS_URL) return createRedisClient(config.REDIS_URL);
  throw new Error("REDIS_URL or REDIS_CLUSTER_NODES is required by this app");
}

/** Resolves when the client is ready or after `timeoutMs`, whichever comes first. Never rejects. */
export async function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<void> {
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
