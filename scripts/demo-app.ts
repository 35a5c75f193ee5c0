/**
 * One app under load, then the checker's report.
 *   npm run demo:broken                      # 4 workers: lost turns, stale replies
 *   npm run demo:broken -- --workers 1       # one worker: consistent (the article's tip)
 *   npm run demo:broken -- --sticky          # sticky routing hides the bug
 *   npm run demo:fixed                       # Redis-backed: zero anomalies
 * Each run writes an HTML report to .runs/<app>-<scenario>-<time>.html (or --html FILE).
 */
import { parseArgs } from "node:util";
import pc from "picocolors";
import { runDemo } from "../lab/learn/demo/run-demo.ts";
import {
  demoAppFlagSpec,
  demoLatencyMs,
  LOAD_FLAGS_HELP,
  parseLoadFlags,
} from "../lab/load/cli-options.ts";
import { RedisNotInstalledError } from "../lab/processes/redis-server.ts";
import { defaultHtmlFile, writeHtmlReport } from "../lab/report/html.ts";
import { renderReport, renderScenarioNotes } from "../lab/report/print.ts";
import { writeRunReport } from "../lab/report/write-json.ts";
import { getScenario, parseApp, parseScenario, SCENARIO_NAMES } from "../scenarios/catalogue.ts";

const HELP = `Usage: npm run demo:broken|demo:fixed -- [options]
  --app broken|fixed    (set by the npm script)
  --scenario NAME       one of: ${SCENARIO_NAMES.join(", ")} (default memory)
  --latency-ms N        simulated model latency per turn (default 5)
  --expect VERDICT      exit 1 unless the checker says valid|invalid|unknown
  --redis-cluster       Redis-backed apps use a local 3-master Redis Cluster (started and removed)
  --redis-sentinel      Redis-backed apps use a local primary + 2 replicas under 3 Sentinels (started and removed)
${LOAD_FLAGS_HELP}`;

const { values } = parseArgs({ options: demoAppFlagSpec });
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

try {
  const app = parseApp(values.app);
  const scenario = parseScenario(values.scenario);
  const flags = parseLoadFlags(values);
  const latency = demoLatencyMs(values["latency-ms"]);

  const result = await runDemo({
    redisCluster: Boolean(values["redis-cluster"]),
    redisSentinel: Boolean(values["redis-sentinel"]),
    ...flags,
    app,
    scenario,
    agentLatencyMs: latency,
    logDir: ".runs",
    progress: Boolean(process.stderr.isTTY),
    note: (message) => console.log(pc.dim(message)),
  });
  console.log(`\n${renderReport(result.summary, result.load, result.check)}\n`);
  console.log(
    `${renderScenarioNotes(getScenario(result.scenario), app, result.summary.verdict === "valid")}\n`,
  );
  if (flags.json) {
    await writeRunReport(flags.json, result);
    console.log(pc.dim(`JSON result written to ${flags.json}`));
  }
  // Always an HTML report: the easiest way to show a run to someone else (it opens offline).
  const htmlFile = flags.html ?? defaultHtmlFile(app, result.scenario);
  await writeHtmlReport(htmlFile, [result]);
  console.log(`HTML report: ${htmlFile}`);
  if (values.expect && values.expect !== result.summary.verdict) {
    console.error(pc.red(`expected verdict ${values.expect}, got ${result.summary.verdict}`));
    process.exit(1);
  }
} catch (error) {
  if (error instanceof RedisNotInstalledError) console.error(pc.red(error.message));
  else
    console.error(pc.red(error instanceof Error ? (error.stack ?? error.message) : String(error)));
  process.exit(1);
}
