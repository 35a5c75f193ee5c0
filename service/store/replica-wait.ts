import { Cluster } from "ioredis";
import type { AppConfig } from "../config.ts";
import type { RedisClient } from "./redis-client.ts";

/**
 * How many replicas must have a write before it counts as stored (Redis WAIT). Replication is
 * asynchronous: a write the primary answered is lost if the primary dies before a replica
 * copied it and a failover promotes that replica. WAIT narrows that window; it is not
 * consensus (a replica that confirmed can still be the one that is not promoted).
 */
export interface ReplicaWait {
  /** 0: a write counts once the primary answers (a lone Redis has no replica to wait for). */
  replicas: number;
  /** WAIT's timeout, in ms: fewer replicas by then and the write is reported uncertain. */
  timeoutMs: number;
}

export const NO_REPLICA_WAIT: ReplicaWait = { replicas: 0, timeoutMs: 0 };

/**
 * REDIS_WAIT_REPLICAS when set; otherwise 1 on Sentinel (it runs replicas to fail over to) and
 * on a Cluster whose masters all have replicas, 0 on a lone Redis. Decide once the client is
 * ready (a Cluster's masters are asked); if a Cluster does not answer, assume replicas:
 * a write then fails visibly (503) rather than being acknowledged unreplicated.
 */
export async function replicaWaitFor(
  client: RedisClient,
  config: Pick<AppConfig, "REDIS_WAIT_REPLICAS" | "REDIS_WAIT_MS" | "REDIS_SENTINELS">,
): Promise<ReplicaWait> {
  const timeoutMs = config.REDIS_WAIT_MS;
  if (config.REDIS_WAIT_REPLICAS !== undefined) {
    return { replicas: config.REDIS_WAIT_REPLICAS, timeoutMs };
  }
  const hasReplicas =
    config.REDIS_SENTINELS !== undefined ||
    (client instanceof Cluster && (await everyMasterHasReplicas(client)));
  return { replicas: hasReplicas ? 1 : 0, timeoutMs };
}

/**
 * Every master says it has a replica (`connected_slaves` in INFO replication): asked of the
 * masters themselves, since the cluster's slot map can lag behind its replicas for seconds.
 */
async function everyMasterHasReplicas(cluster: Cluster): Promise<boolean> {
  try {
    const masters = cluster.nodes("master");
    const infos = await Promise.all(masters.map((master) => master.info("replication")));
    return masters.length > 0 && infos.every((info) => !/connected_slaves:0\b/.test(info));
  } catch {
    return true;
  }
}
