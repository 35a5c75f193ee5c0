import { Redis } from "ioredis";
import { type AppCluster, startAppCluster } from "../../lab/processes/app-cluster.ts";
import {
  ensureRedis,
  type RedisHandle,
  startPrivateRedis,
} from "../../lab/processes/redis-server.ts";

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
  /** `private`: always a throwaway redis-server; `ensure` (default): REDIS_URL when set. */
  redis?: "private" | "ensure";
}

/** Starts Redis and the fixed memory app on it; on failure, stops whatever was started. */
export async function startFixedApp(options: FixedAppOptions): Promise<FixedApp> {
  const redis = options.redis === "private" ? await startPrivateRedis() : await ensureRedis();
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
