import { Redis } from "ioredis";
import { type AppCluster, startAppCluster } from "../../lab/processes/app-cluster.ts";
import { startRedisSentinel } from "../../lab/processes/redis-sentinel.ts";
import { type RedisHandle, startPrivateRedis } from "../../lab/processes/redis-server.ts";
import { SCENARIOS, type ScenarioName } from "../../scenarios/catalogue.ts";

/** A real fixed cluster on a real Redis, with an ioredis client to look at what it stored. */
export interface FixedApp {
  redis: RedisHandle;
  app: AppCluster;
  inspector: Redis;
  /** Stops the cluster, then Redis (if this process started it). */
  stop(): Promise<void>;
}

export interface FixedAppOptions {
  workers?: number;
  /** The app's environment besides REDIS_URL (AUTH_SECRET, REDIS_KEY_PREFIX, ...). */
  env: Record<string, string>;
}

/**
 * Starts Redis and the fixed memory app on it; on failure, stops whatever was started. Always
 * a throwaway Redis of its own (a test never touches a Redis it did not start): one
 * redis-server, or with `TEST_REDIS=sentinel` a primary + 2 replicas under 3 Sentinels, which
 * the app then reaches through the sentinels.
 */
export async function startFixedApp(options: FixedAppOptions): Promise<FixedApp> {
  const { redis, env } = await startTestRedis();
  let app: AppCluster;
  try {
    app = await startAppCluster({
      app: "fixed",
      scenario: "memory",
      workers: options.workers ?? 2,
      env: { ...env, ...options.env },
    });
  } catch (error) {
    await redis.stop();
    throw error;
  }
  const inspector = new Redis(redis.url);
  return {
    redis,
    app,
    inspector,
    stop: async () => {
      inspector.disconnect();
      await app.stop();
      await redis.stop();
    },
  };
}

/** TEST_REDIS: which Redis the fixed-app tests run on (`sentinel`, or one redis-server). */
async function startTestRedis(): Promise<{ redis: RedisHandle; env: Record<string, string> }> {
  if (process.env.TEST_REDIS !== "sentinel") {
    const redis = await startPrivateRedis();
    return { redis, env: { REDIS_URL: redis.url } };
  }
  const sentinel = await startRedisSentinel();
  const primary = await sentinel.primary();
  return {
    // What the tests inspect: the primary, where the app writes.
    redis: { url: `redis://${primary.host}:${primary.port}`, owned: true, stop: sentinel.stop },
    env: { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: sentinel.name },
  };
}

/** Every scenario whose fixed app keeps its state in Redis (the frameworks' too). */
export const FIXED_ON_REDIS = SCENARIOS.filter((s) => s.backends.fixed === "redis").map(
  (s) => s.name as ScenarioName,
);

/** One worker of a scenario's fixed app on the Redis at `redisUrl`, with `env` besides. */
export function startFixedScenario(
  redisUrl: string,
  scenario: ScenarioName,
  env: Record<string, string>,
): Promise<AppCluster> {
  return startAppCluster({
    app: "fixed",
    scenario,
    workers: 1,
    env: { REDIS_URL: redisUrl, ...env },
  });
}
