/**
 * Starts a throwaway local Redis Cluster (3 masters on free ports, no persistence) and keeps
 * it running until Ctrl+C. In another terminal:
 *   npm run redis:cluster
 *   REDIS_CLUSTER_NODES=127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3 npm run start:fixed
 */
import {
  RedisClusterToolMissingError,
  startLocalRedisCluster,
} from "../lab/processes/redis-cluster.ts";

let cluster: Awaited<ReturnType<typeof startLocalRedisCluster>>;
try {
  cluster = await startLocalRedisCluster();
} catch (error) {
  console.error(error instanceof RedisClusterToolMissingError ? error.message : error);
  process.exit(1);
}

console.log(`Redis Cluster ready: 3 masters, no replicas, temp dir ${cluster.dir}`);
console.log("Run the fixed app against it in another terminal:");
console.log(`  REDIS_CLUSTER_NODES=${cluster.nodes} npm run start:fixed`);
console.log("Ctrl+C stops the cluster and deletes its data.");
console.log(`REDIS_CLUSTER_NODES=${cluster.nodes}`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  console.log("Redis Cluster stopped.");
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
