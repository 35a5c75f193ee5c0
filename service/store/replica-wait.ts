import { Cluster, type Redis } from "ioredis";
import type { AppConfig } from "../config.ts";
import { StoreWriteUncertainError } from "../errors.ts";
import type { StoreCommands } from "./commands.ts";
import type { RedisClient } from "./redis-client.ts";
import { writeFailure, writeToRedis } from "./redis-failures.ts";

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

/** A write command, given the client to send it on, or the pipeline to queue it in. */
export type WriteCommand<T> = (target: StoreCommands) => Promise<T>;

/**
 * Sends one write and, with replicas to wait for, WAIT right behind it in the same pipeline
 * (still one round trip): the write counts as stored only once `replicaWait.replicas` have
 * it. `changed(reply)` says whether the write stored anything: a refused one has nothing to
 * wait for. Fails as every write does (StoreUnavailableError, StoreWriteUncertainError), and
 * with StoreWriteUncertainError when too few replicas confirmed it.
 */
export async function writeReplicated<T>(
  redis: (Redis | Cluster) & StoreCommands,
  replicaWait: ReplicaWait,
  command: WriteCommand<T>,
  changed: (reply: T) => boolean = () => true,
): Promise<T> {
  const { replicas, timeoutMs } = replicaWait;
  if (replicas === 0) return writeToRedis(() => command(redis));
  const batch = redis.pipeline();
  // A pipeline queues the script like the client would send it (ioredis defines the
  // commands on both); what it returns is the pipeline, not the reply, so it is not awaited.
  command(batch as unknown as StoreCommands);
  batch.wait(replicas, timeoutMs);
  const [write, wait] = (await writeToRedis(() => batch.exec())) ?? [];
  // A command of a pipeline fails on its own (its error in the results) when its connection
  // drops: the same two outcomes as a lone command.
  if (!write || write[0]) throw writeFailure(write?.[0] ?? new Error("no reply to the write"));
  const reply = write[1] as T;
  if (changed(reply)) requireReplicas(wait, replicaWait);
  return reply;
}

/**
 * Confirms that enough replicas have everything written to `key`'s node so far: for a turn
 * answered from the store (a retry of a turn already stored), which is acknowledged again.
 * WAIT only counts this connection's own writes, so a keyed write goes first (the key's
 * expiry, refreshed): a replica that has it also has every earlier write of that stream, the
 * stored turn included. Too few replicas: StoreWriteUncertainError, as for a new write.
 */
export async function confirmReplicated(
  redis: Redis | Cluster,
  key: string,
  ttlSeconds: number,
  replicaWait: ReplicaWait,
): Promise<void> {
  const { replicas, timeoutMs } = replicaWait;
  if (replicas === 0) return;
  const [refresh, wait] =
    (await writeToRedis(() =>
      redis.pipeline().expire(key, ttlSeconds).wait(replicas, timeoutMs).exec(),
    )) ?? [];
  if (!refresh || refresh[0]) throw writeFailure(refresh?.[0] ?? new Error("no reply"));
  requireReplicas(wait, replicaWait);
}

/** WAIT's reply in a pipeline's results: too few replicas (or no reply) is an uncertain write. */
function requireReplicas(wait: [Error | null, unknown] | undefined, replicaWait: ReplicaWait) {
  const confirmed = wait?.[0] ? 0 : Number(wait?.[1] ?? 0);
  if (confirmed < replicaWait.replicas) {
    throw new StoreWriteUncertainError(new ReplicasBehindError(confirmed, replicaWait));
  }
}

/** The primary stored the write, but too few replicas confirmed it: a failover could lose it. */
export class ReplicasBehindError extends Error {
  override readonly name = "ReplicasBehindError";

  constructor(confirmed: number, { replicas, timeoutMs }: ReplicaWait) {
    super(`${confirmed} of ${replicas} replicas confirmed the write within ${timeoutMs} ms`);
  }
}
