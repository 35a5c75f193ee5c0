/**
 * Starts a throwaway local Redis Cluster (3 masters on free ports, no persistence; with
 * --replicas 1, a replica each) and keeps it running until Ctrl+C. In another terminal:
 *   npm run redis:cluster
 *   npm run redis:cluster -- --replicas 1
 *   REDIS_CLUSTER_NODES=127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3 npm run start:fixed
 */
import { parseArgs } from "node:util";
import { countFlag, defineFlags, FLAG, parseFlagsOrExit } from "../lab/cli-flags.ts";
import {
  RedisClusterToolMissingError,
  startLocalRedisCluster,
} from "../lab/processes/redis-cluster.ts";
import { stopOnSignal } from "../lab/processes/stop-on-signal.ts";

const HELP = `Usage: npm run redis:cluster -- [options]
  --replicas N       replicas per master: 0 (default) or 1`;

const flags = defineFlags(countFlag("replicas", { min: 0, max: 1, fallback: 0 }), FLAG.help());
const { values } = parseArgs({ options: flags.spec });
const options = parseFlagsOrExit(flags.schema, values);
if (options.help) {
  console.log(HELP);
  process.exit(0);
}
const replicas = options.replicas === 1 ? 1 : 0;

let cluster: Awaited<ReturnType<typeof startLocalRedisCluster>>;
try {
  cluster = await startLocalRedisCluster({ replicas });
} catch (error) {
  console.error(error instanceof RedisClusterToolMissingError ? error.message : error);
  process.exit(1);
}

const replicaNote = replicas ? "1 replica each" : "no replicas";
console.log(`Redis Cluster ready: 3 masters, ${replicaNote}, temp dir ${cluster.dir}`);
console.log("Run the fixed app against it in another terminal:");
console.log(`  REDIS_CLUSTER_NODES=${cluster.nodes} npm run start:fixed`);
console.log("Ctrl+C stops the cluster and deletes its data.");
console.log(`REDIS_CLUSTER_NODES=${cluster.nodes}`);

stopOnSignal(() => cluster.stop(), "Redis Cluster stopped.");
