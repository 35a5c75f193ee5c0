import { Redis } from "ioredis";
import { type AppCluster, startAppCluster } from "../../lab/processes/app-cluster.ts";
import { type RedisHandle, startPrivateRedis } from "../../lab/processes/redis-server.ts";

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

/** Starts Redis and the fixed memory app on it; on failure, stops whatever was started. */
export async function startFixedApp(options: FixedAppOptions): Promise<FixedApp> {
  // Always a throwaway redis-server of its own: a test never touches a Redis it did not start.
  const redis = await startPrivateRedis();
  let app: AppCluster;
  try {
    app = await startAppCluster({
      app: "fixed",
      scenario: "memory",
      workers: options.workers ?? 2,
      env: { REDIS_URL: redis.url, ...options.env },
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
