/**
 * Starts a throwaway primary with replicas under Sentinel (free ports, no persistence) and
 * keeps it running until Ctrl+C. In another terminal:
 *   npm run redis:sentinel                        # a primary, 2 replicas, 3 sentinels
 *   npm run redis:sentinel -- --password s3cret   # data nodes require a password
 *   REDIS_SENTINELS=127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3 REDIS_SENTINEL_NAME=mymaster npm run start:fixed
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { countFlag, defineFlags, FLAG, parseFlagsOrExit, valueFlag } from "../lab/cli-flags.ts";
import { startRedisSentinel } from "../lab/processes/redis-sentinel.ts";
import { RedisNotInstalledError } from "../lab/processes/redis-server.ts";
import { stopOnSignal } from "../lab/processes/stop-on-signal.ts";

const HELP = `Usage: npm run redis:sentinel -- [options]
  --replicas N       replicas of the primary (1-4, default 2)
  --sentinels N      sentinels (1-5, default 3)
  --password PW      every data node requires it (the sentinels take none)`;

const flags = defineFlags(
  countFlag("replicas", { min: 1, max: 4, fallback: 2 }),
  countFlag("sentinels", { min: 1, max: 5, fallback: 3 }),
  valueFlag("password", z.string().min(1).optional()),
  FLAG.help(),
);
const { values } = parseArgs({ options: flags.spec });
const options = parseFlagsOrExit(flags.schema, values);
if (options.help) {
  console.log(HELP);
  process.exit(0);
}

let lab: Awaited<ReturnType<typeof startRedisSentinel>>;
try {
  lab = await startRedisSentinel(options);
} catch (error) {
  console.error(error instanceof RedisNotInstalledError ? error.message : error);
  process.exit(1);
}

const primary = await lab.primary();
const replicas = lab.ports.filter((port) => port !== primary.port);
console.log(
  `Redis Sentinel ready: primary ${primary.host}:${primary.port}, ${replicas.length} replicas (${replicas.join(", ")}), ${lab.sentinelPorts.length} sentinels, temp dir ${lab.dir}`,
);
if (lab.password) console.log("The data nodes require the password; the sentinels take none.");
const password = lab.password ? ` REDIS_PASSWORD=${lab.password}` : "";
const variables = `REDIS_SENTINELS=${lab.sentinels} REDIS_SENTINEL_NAME=${lab.name}${password}`;
console.log("Run the fixed app against it in another terminal:");
console.log(`  ${variables} npm run start:fixed`);
console.log("Ctrl+C stops every node and deletes their data.");
console.log(variables);

stopOnSignal(() => lab.stop(), "Redis Sentinel stopped.");
