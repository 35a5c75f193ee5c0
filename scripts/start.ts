/**
 * Starts one app (broken or fixed) under node:cluster.
 *   npm run start:broken            # PORT=3001 WORKERS=4
 *   npm run start:fixed             # PORT=3002, REDIS_URL required
 *   tsx scripts/start.ts --app fixed --scenario memory
 */
import cluster from "node:cluster";
import { parseArgs } from "node:util";
import { parseApp, parseScenario } from "../scenarios/catalogue.ts";
import { startAppServer } from "../scenarios/start-variant.ts";
import { runCluster } from "../service/cluster.ts";
import { DEFAULT_PORTS, loadConfig, warnIfDevSecret } from "../service/config.ts";
import { logger } from "../service/logger.ts";

const { values } = parseArgs({
  options: { app: { type: "string" }, scenario: { type: "string" } },
});
const app = parseApp(values.app);
const scenario = parseScenario(values.scenario);
// A local default so `npm run start:fixed` works next to the machine's own Redis; only
// keys under the project's prefix are ever written.
const config = loadConfig({ REDIS_URL: "redis://127.0.0.1:6379", ...process.env });
const port = config.PORT ?? DEFAULT_PORTS[app];

if (cluster.isPrimary) {
  warnIfDevSecret(config);
  if (app === "fixed" && !process.env.REDIS_URL && !process.env.REDIS_CLUSTER_NODES) {
    logger.info(`REDIS_URL is not set: using ${config.REDIS_URL}`);
  }
  logger.info({ event: "app_starting", app, scenario, port, workers: config.WORKERS });
}

runCluster({
  workers: config.WORKERS,
  startWorker: async () => (await startAppServer(app, scenario, config, port)).stop,
});
