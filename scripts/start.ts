/**
 * Starts one app (broken or fixed) under node:cluster.
 *   npm run start:broken            # PORT=3001 WORKERS=4
 *   npm run start:fixed             # PORT=3002; REDIS_URL, or a private redis-server
 *   tsx scripts/start.ts --app fixed --scenario memory
 *   SCENARIO=langgraph npm start    # both apps of one scenario, and the page
 */
import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { startPrivateRedis } from "../lab/processes/redis-server.ts";
import { backendOf, parseApp, parseScenario } from "../scenarios/catalogue.ts";
import { startVariant } from "../scenarios/start-variant.ts";
import { runCluster } from "../service/cluster.ts";
import { type AppConfig, DEFAULT_PORTS, loadConfig, warnIfDevSecret } from "../service/config.ts";
import { configureLogging, logger } from "../service/logger.ts";
import { checkRedisAccess, RedisAccessRefusedError } from "../service/store/redis-access-check.ts";

const { values } = parseArgs({
  options: { app: { type: "string" }, scenario: { type: "string" } },
});
const app = parseApp(values.app);
// SCENARIO picks the scenario for `npm start`, which starts both apps and the page at once.
const scenario = parseScenario(values.scenario ?? process.env.SCENARIO);

// A bad setting stops the app before anything (a private Redis) is started for it.
loadConfigOrExit();
if (cluster.isPrimary) await chooseRedis();
const config = loadConfigOrExit();
if (cluster.isPrimary && backendOf(app, scenario) === "redis") await checkRedisAccessOrExit(config);
configureLogging(config.LOG_LEVEL);
const port = config.PORT ?? DEFAULT_PORTS[app];
if (cluster.isPrimary) {
  warnIfDevSecret(config);
  logger.info({ event: "app_starting", app, scenario, port, workers: config.WORKERS });
}

runCluster({
  workers: config.WORKERS,
  startWorker: async () => (await startVariant(app, scenario, config, port)).stop,
});

/** A bad or missing setting stops the app with the reason, not a stack trace. */
function loadConfigOrExit(): AppConfig {
  try {
    return loadConfig();
  } catch (error) {
    console.error(`${app} app cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
}

/**
 * A wrong password or CA stops the app once, here, with the setting to fix: otherwise every
 * worker would start and keep reconnecting, and every turn would get a 503. An unreachable
 * Redis is not refused: the app starts and answers 503 until Redis is back.
 */
async function checkRedisAccessOrExit(settings: AppConfig): Promise<void> {
  try {
    await checkRedisAccess(settings);
  } catch (error) {
    if (!(error instanceof RedisAccessRefusedError)) throw error;
    console.error(`${app} app cannot start: ${error.message}`);
    process.exit(1);
  }
}

/**
 * A variant on Redis without REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS gets a private,
 * throwaway redis-server (never a Redis it was not told about); workers inherit its URL.
 */
async function chooseRedis(): Promise<void> {
  const { REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS } = process.env;
  if (REDIS_URL || REDIS_CLUSTER_NODES || REDIS_SENTINELS) return;
  if (backendOf(app, scenario) !== "redis") return;
  const redis = await startPrivateRedis();
  process.env.REDIS_URL = redis.url;
  console.error(
    `REDIS_URL is not set: started a private redis-server at ${redis.url}; its data goes when this app stops (set REDIS_URL to keep it).`,
  );
  // The primary leaves through process.exit, where only synchronous work runs.
  process.once("exit", () => {
    const pid = redis.pid();
    if (pid) process.kill(pid, "SIGTERM");
  });
}
