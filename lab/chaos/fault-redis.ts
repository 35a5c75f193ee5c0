import { askRedis } from "../processes/ask-redis.ts";
import { type RedisClusterHandle, startLocalRedisCluster } from "../processes/redis-cluster.ts";
import { type RedisSentinelHandle, startRedisSentinel } from "../processes/redis-sentinel.ts";
import {
  type PrivateRedis,
  type RedisPersistence,
  startPrivateRedis,
} from "../processes/redis-server.ts";
import type { FailoverTarget, Fault } from "./faults.ts";

/** The Redis one chaos case runs the fixed app on, as its fault needs it. */
export interface FaultRedis {
  /** How the app reaches it: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES. */
  env: Record<string, string>;
  /** The lone redis-server the outage and crash faults stop. */
  redis?: PrivateRedis;
  /** The replicated deployment the failover faults partition and fail over. */
  failover?: FailoverTarget;
  stop(): Promise<void>;
}

/**
 * Starts what `fault.redis` asks for: a private redis-server, Sentinel's setup, or a Cluster.
 * With `redisSentinel`, a fault that leaves Redis alone runs on Sentinel's setup too.
 */
export async function startFaultRedis(
  fault: Fault,
  options: { persistence: RedisPersistence; redisSentinel: boolean },
): Promise<FaultRedis> {
  const onSentinel = options.redisSentinel && !fault.needsRedis;
  if (fault.redis === "sentinel" || onSentinel) {
    const sentinel = await startRedisSentinel();
    return {
      env: { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: sentinel.name },
      failover: sentinelFailover(sentinel),
      stop: () => sentinel.stop(),
    };
  }
  if (fault.redis === "cluster-replicas") {
    const cluster = await startLocalRedisCluster({ replicas: 1 });
    return {
      env: { REDIS_CLUSTER_NODES: cluster.nodes },
      failover: clusterFailover(cluster),
      stop: () => cluster.stop(),
    };
  }
  const redis = await startPrivateRedis({ persistence: options.persistence });
  return { env: { REDIS_URL: redis.url }, redis, stop: () => redis.stop() };
}

function sentinelFailover(sentinel: RedisSentinelHandle): FailoverTarget {
  return {
    cutReplication: () => sentinel.cutReplication(),
    restoreReplication: () => sentinel.restoreReplication(),
    killPrimary: async () => {
      const { port } = await sentinel.primary();
      await sentinel.killPrimary();
      return port;
    },
    waitForPromotion: async (timeoutMs) => (await sentinel.waitForPromotion(timeoutMs)).port,
  };
}

/**
 * The master holding the most keys stands for "the primary": it surely holds conversations,
 * whose loss then shows. With one replica per master the promoted one has none left, so the
 * killed node is restarted (it rejoins as its replica), or no write to those slots could be
 * confirmed by WAIT again.
 */
function clusterFailover(cluster: RedisClusterHandle): FailoverTarget {
  let killed: number | undefined;
  return {
    cutReplication: () => cluster.cutReplication(),
    restoreReplication: () => cluster.restoreReplication(),
    killPrimary: async () => {
      killed = await cluster.killMaster(await fullestMaster(cluster));
      return killed;
    },
    waitForPromotion: (timeoutMs) => {
      if (killed === undefined) throw new Error("no master was killed");
      return cluster.waitForPromotion(killed, timeoutMs);
    },
    recoverKilled: async () => {
      if (killed === undefined) throw new Error("no master was killed");
      const startedAt = Date.now();
      await cluster.restartNode(killed);
      return `:${killed} back as its replica after ${Date.now() - startedAt} ms`;
    },
  };
}

async function fullestMaster(cluster: RedisClusterHandle): Promise<number> {
  const masters = await cluster.masters();
  const sizes = await Promise.all(
    masters.map(async (port) => Number(await askRedis({ host: "127.0.0.1", port }, "DBSIZE"))),
  );
  return masters[sizes.indexOf(Math.max(...sizes))] ?? masters[0] ?? 0;
}
