import { Redis } from "ioredis";
import { type PrivateRedis, startPrivateRedis } from "../../lab/processes/redis-server.ts";
import { waitFor } from "./wait-for.ts";

/** A private primary with one replica, for the tests of writes that wait for replicas (WAIT). */
export interface ReplicatedRedis {
  primary: PrivateRedis;
  /** A plain connection to the primary, for the test's own checks. */
  onPrimary: Redis;
  /** A plain connection to the replica: what a failover would promote. */
  onReplica: Redis;
  /** The replica stops following the primary; resolves once the primary lists no replica. */
  detachReplica(): Promise<void>;
  /** The replica follows the primary again; resolves once it is in sync and acknowledging. */
  attachReplica(): Promise<void>;
  stop(): Promise<void>;
}

/** `INFO replication` of a node, as field -> value. */
async function replication(client: Redis): Promise<Record<string, string>> {
  const info = await client.info("replication");
  return Object.fromEntries(
    info.split("\r\n").map((line) => line.split(/:(.*)/s) as [string, string]),
  );
}

const PROBE_KEY = `agent-sandbox-test:wait-probe:${process.pid}`;

/**
 * In sync as both ends see it, and acknowledging: the link is up, the primary lists the
 * replica online, and a WAIT right after a write returns 1. (Just after a sync, Redis 7.0 can
 * take up to a second to acknowledge the first write: measured here, 1 start in 4.)
 */
async function inSync(primary: Redis, replica: Redis): Promise<boolean> {
  const [ofReplica, ofPrimary] = await Promise.all([replication(replica), replication(primary)]);
  if (ofReplica.master_link_status !== "up" || !/state=online/.test(ofPrimary.slave0 ?? "")) {
    return false;
  }
  await primary.set(PROBE_KEY, "1", "EX", 60);
  return (await primary.wait(1, 100)) === 1;
}

/** Starts both servers and waits until the replica is in sync; `stop()` ends both. */
export async function startReplicatedRedis(): Promise<ReplicatedRedis> {
  const [primary, replica] = await Promise.all([startPrivateRedis(), startPrivateRedis()]);
  const onPrimary = new Redis(primary.url);
  const onReplica = new Redis(replica.url);
  // The replica's first sync starts at once, not after Redis's default 5 s delay.
  await onPrimary.config("SET", "repl-diskless-sync-delay", "0");
  const attachReplica = async () => {
    await onReplica.replicaof("127.0.0.1", new URL(primary.url).port);
    await waitFor("the replica to be in sync", () => inSync(onPrimary, onReplica));
  };
  await attachReplica();
  return {
    primary,
    onPrimary,
    onReplica,
    attachReplica,
    async detachReplica() {
      await onReplica.replicaof("NO", "ONE");
      await waitFor("the primary to see no replica", async () => {
        return (await replication(onPrimary)).connected_slaves === "0";
      });
    },
    async stop() {
      await onPrimary.del(PROBE_KEY).catch(() => 0);
      onPrimary.disconnect();
      onReplica.disconnect();
      await Promise.all([primary.stop(), replica.stop()]);
    },
  };
}
