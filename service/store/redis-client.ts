import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { Cluster, Redis } from "ioredis";
import { type AppConfig, parseNodeList } from "../config.ts";
import { logger } from "../logger.ts";

/** What the store and the turn gate run on: one Redis (maybe found by Sentinel), or a Cluster. */
export type RedisClient = Redis | Cluster;

/** Where Redis is and how to get in: the Redis part of AppConfig. */
export type RedisSettings = Pick<
  AppConfig,
  | "REDIS_URL"
  | "REDIS_CLUSTER_NODES"
  | "REDIS_SENTINELS"
  | "REDIS_SENTINEL_NAME"
  | "REDIS_SENTINEL_PASSWORD"
  | "REDIS_PASSWORD"
  | "REDIS_TLS_CA"
>;

/** Credentials and TLS for the data nodes: a password, and a CA to trust. */
export interface RedisAccess {
  password?: string;
  tls?: ConnectionOptions;
}

/** REDIS_PASSWORD and REDIS_TLS_CA as connection options (the CA file is read once, here). */
export function redisAccess(settings: Pick<RedisSettings, "REDIS_PASSWORD" | "REDIS_TLS_CA">) {
  const access: RedisAccess = {};
  if (settings.REDIS_PASSWORD) access.password = settings.REDIS_PASSWORD;
  if (settings.REDIS_TLS_CA) access.tls = { ca: readFileSync(settings.REDIS_TLS_CA) };
  return access;
}

/** Fail fast: a command issued while Redis is unreachable fails within about a second. */
const FAIL_FAST_TIMEOUT_MS = 1000;
/** Keep trying to reconnect in the background, at most once a second. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, FAIL_FAST_TIMEOUT_MS);

/**
 * A Redis connection tuned to fail fast. With ioredis defaults a command issued while
 * Redis is down is queued and retried for more than a minute; a chat turn should get a
 * 503 within about a second instead, so the caller knows the turn did not happen.
 */
export function createRedisClient(url: string, access: RedisAccess = {}): Redis {
  return new Redis(url, { ...failFastOptions, ...access });
}

/** The options behind createRedisClient, shared by the Sentinel client. */
const failFastOptions = {
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
} as const;

/**
 * The primary that Sentinel names, with the fail-fast behaviour of createRedisClient. On a
 * failover ioredis asks the sentinels again once its connection drops (the primary died) or
 * the old primary, demoted, refuses a write with READONLY. The refused command is not resent
 * (that write did not happen: the caller gets a 503). ioredis's failoverDetector stays off:
 * its disconnect on the sentinels' +switch-master, racing the reconnect that the dead primary
 * already started, left a worker's client closed for good (seen here, 1 failover in 3).
 */
export function createRedisSentinelClient(
  settings: Pick<
    RedisSettings,
    "REDIS_SENTINELS" | "REDIS_SENTINEL_NAME" | "REDIS_SENTINEL_PASSWORD"
  >,
  access: RedisAccess = {},
): Redis {
  return new Redis({
    ...failFastOptions,
    ...access,
    sentinels: parseNodeList(settings.REDIS_SENTINELS ?? ""),
    name: settings.REDIS_SENTINEL_NAME,
    role: "master",
    sentinelPassword: settings.REDIS_SENTINEL_PASSWORD,
    enableTLSForSentinelMode: access.tls !== undefined,
    sentinelTLS: access.tls,
    sentinelCommandTimeout: FAIL_FAST_TIMEOUT_MS,
    sentinelRetryStrategy: reconnectDelay,
    failoverDetector: false,
    // 1: reconnect (to whichever primary the sentinels name now), never 2 (reconnect and resend).
    reconnectOnError: (error: Error) => (error.message.startsWith("READONLY") ? 1 : false),
  });
}

/**
 * A Redis Cluster client with the same fail-fast behaviour as createRedisClient. Any one
 * reachable node is enough to start: the client learns the others and the slot map from it.
 * It only follows the cluster's own refusals (MOVED, ASK, TRYAGAIN, CLUSTERDOWN: the command
 * did not run, so resending it is safe); a command whose connection dropped is never resent.
 */
export function createRedisClusterClient(nodes: string, access: RedisAccess = {}): Cluster {
  const cluster = new Cluster(parseNodeList(nodes), {
    // Fail a command at once while the cluster is not ready instead of queueing it.
    enableOfflineQueue: false,
    // The default (100 ms) resends a command whose connection closed: a resent append could
    // store a turn twice (or be fenced after it was stored). 0 = report it as uncertain.
    retryDelayOnFailover: 0,
    clusterRetryStrategy: reconnectDelay,
    // Learning the slot map is background work, not a turn: give it time on a busy machine
    // (a worker compiling its modules at start can stall its timers for a second or more).
    slotsRefreshTimeout: 5000,
    enableAutoPipelining: false,
    lazyConnect: false,
    // The connection to each node.
    redisOptions: {
      maxRetriesPerRequest: 0,
      // Only bounds (re)connecting; a command while disconnected still fails at once.
      connectTimeout: 5000,
      commandTimeout: FAIL_FAST_TIMEOUT_MS,
      enableAutoPipelining: false,
      ...access,
    },
  });
  openNodeConnectionsOnceReady(cluster);
  watchReadiness(cluster);
  return cluster;
}

/**
 * ioredis opens a node's connection on its first command, and with the offline queue off it
 * refuses ("Connection is closed.") the commands that arrive while it is still opening. So open
 * every node's connection as soon as the client is ready, and each node it learns later (after
 * a failover). Not sooner: ioredis's own ready check sends CLUSTER INFO to any node, a node
 * still opening refuses it, and a refused ready check restarts the whole connection (seen: a
 * client looping like that, and once stuck in "close" for good).
 */
function openNodeConnectionsOnceReady(cluster: Cluster): void {
  const open = (node: Redis) => node.ping().catch(() => undefined);
  cluster.on("ready", () => {
    for (const node of cluster.nodes()) open(node);
  });
  // On the next tick, so that a command redirected there (MOVED) is still the one that opens it.
  cluster.on("+node", (node: Redis) => {
    if (cluster.status === "ready") setImmediate(() => open(node));
  });
}

/**
 * Last resort: if the client has not been ready for STUCK_MS, start its connection over.
 * A client connecting ("connecting", "connect") is dropped and reconnects; one left "close" or
 * "disconnecting" with no reconnect under way (ioredis aborts a connect that a late "close"
 * overtook) is connected again. Unref'd: never keeps a process up.
 */
const STUCK_MS = 5000;
function watchReadiness(cluster: Cluster): void {
  let since = Date.now();
  const timer = setInterval(() => {
    if (cluster.status === "end") return clearInterval(timer);
    if (cluster.status === "ready" || cluster.status === "reconnecting") {
      since = Date.now();
      return;
    }
    if (Date.now() - since < STUCK_MS) return;
    since = Date.now();
    if (cluster.status === "connecting" || cluster.status === "connect") cluster.disconnect(true);
    else cluster.connect().catch(() => undefined);
  }, 1000);
  timer.unref();
}

/**
 * The fixed app's client: a Cluster when REDIS_CLUSTER_NODES is set, the primary Sentinel
 * names when REDIS_SENTINELS is, else one Redis at REDIS_URL.
 */
export function createStoreClient(settings: RedisSettings): RedisClient {
  const client = openStoreClient(settings, redisAccess(settings));
  logConnectionErrors(client);
  return client;
}

function openStoreClient(settings: RedisSettings, access: RedisAccess): RedisClient {
  if (settings.REDIS_CLUSTER_NODES) {
    return createRedisClusterClient(settings.REDIS_CLUSTER_NODES, access);
  }
  if (settings.REDIS_SENTINELS) return createRedisSentinelClient(settings, access);
  if (settings.REDIS_URL) return createRedisClient(settings.REDIS_URL, access);
  throw new Error("REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES is required by this app");
}

/** While Redis is away the client retries about once a second: log that at most every 5 s. */
const ERROR_LOG_INTERVAL_MS = 5000;

/**
 * A connection error is the client's to handle (it reconnects by itself); without a listener
 * ioredis prints each one as "Unhandled error event". Turns report the outage as 503s.
 */
function logConnectionErrors(client: RedisClient): void {
  let lastLoggedAt = 0;
  client.on("error", (error: Error) => {
    if (Date.now() - lastLoggedAt < ERROR_LOG_INTERVAL_MS) return;
    lastLoggedAt = Date.now();
    logger.warn({ event: "redis_connection_error", error: error.message });
  });
}

/**
 * Resolves when the client is ready or after `timeoutMs`, whichever comes first. Never rejects.
 * For a cluster, it also waits until the connection to every master is open (see
 * createRedisClusterClient), so the first turns do not find one still opening.
 */
export async function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await readyOrTimeout(client, timeoutMs);
  if (client instanceof Cluster && client.status === "ready") {
    const masters = client.nodes("master").map((node) => node.ping().catch(() => undefined));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(masters),
      new Promise((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
  }
}

function readyOrTimeout(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off("ready", done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.on("ready", done);
  });
}
