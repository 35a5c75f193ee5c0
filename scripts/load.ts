/**
 * The load test and checker against an app that is already running, e.g. one from
 * `npm start` or your own deployment behind a load balancer.
 *   npm run load -- --url http://127.0.0.1:3001 --workers 4
 *   npm run load -- --url http://host-a:3002,http://host-b:3002 --workers 8   # several replicas
 * The token is signed with AUTH_SECRET (or the development default), so it must match the app's.
 */
import { parseArgs } from "node:util";
import pc from "picocolors";
import { checkRun } from "../lab/check/checker.ts";
import { parseFlagsOrExit } from "../lab/cli-flags.ts";
import {
  LOAD_FLAGS_HELP,
  LoadCommandFlags,
  loadCommandFlagSpec,
  parseLoadFlags,
  resendRefused,
  streamLoad,
} from "../lab/load/cli-options.ts";
import { requestJson } from "../lab/load/http-json.ts";
import { runLoad } from "../lab/load/run-load.ts";
import { writeHtmlReport } from "../lab/report/html.ts";
import { renderReport } from "../lab/report/print.ts";
import { summarize } from "../lab/report/summary.ts";
import { writeRunReport } from "../lab/report/write-json.ts";
import { getScenario, SCENARIO_NAMES, type ScenarioName } from "../scenarios/catalogue.ts";
import { issueToken } from "../service/auth/tokens.ts";
import { DEV_AUTH_SECRET } from "../service/config.ts";
import type { HealthResponse } from "../service/contract.ts";

const { values } = parseArgs({ options: loadCommandFlagSpec });
if (values.help || !values.url) {
  console.log(
    `Usage: npm run load -- --url URL [options]\n  --url URL[,URL...]  the app's base URL; several (comma-separated) for replicas of one app\n  --turn-limit N      the app's RATE_LIMIT_TURNS_PER_MINUTE: count turns acknowledged beyond it\n${LOAD_FLAGS_HELP}`,
  );
  process.exit(values.help ? 0 : 2);
}
const hosts = values.url.split(",").map((u) => u.trim().replace(/\/$/, ""));
const url = hosts[0] ?? "";
const flags = parseLoadFlags(values);
const { "turn-limit": turnLimitPerMinute } = parseFlagsOrExit(LoadCommandFlags, values);

const health = await requestJson(`${url}/healthz`).catch((error: Error) => {
  console.error(pc.red(`cannot reach ${url}/healthz: ${error.message}`));
  process.exit(1);
});
const app = (health.body as Partial<HealthResponse>).app ?? "unknown";
const scenario = (health.body as Partial<HealthResponse>).scenario ?? "unknown";
// One of the sandbox's own scenarios: its load defaults (streamed turns, overlap) apply.
const defaults = (SCENARIO_NAMES as readonly string[]).includes(scenario)
  ? getScenario(scenario as ScenarioName).load
  : undefined;
const token = issueToken(
  { tenant: "load", user: `load-${process.pid}` },
  process.env.AUTH_SECRET ?? DEV_AUTH_SECRET,
);
const load = await runLoad({
  url,
  hosts,
  token,
  conversations: flags.conversations,
  turns: flags.turns,
  connections: flags.connections,
  workers: flags.workers,
  sticky: flags.sticky,
  overlap: flags.overlap ?? defaults?.overlap ?? 1,
  retryRate: flags["retry-rate"],
  ...streamLoad(flags, defaults),
  readAfterMs: defaults?.readAfterMs,
  seed: flags.seed,
  resendRefused: resendRefused(flags),
  timeoutSeconds: flags.timeout,
  maxSeconds: flags["max-seconds"],
  progress: Boolean(process.stderr.isTTY),
  turnLimitPerMinute,
});
const check = checkRun(load);
const summary = summarize(app, scenario, load, check);
console.log(`\n${renderReport(summary, load, check)}\n`);
if (flags.json) {
  await writeRunReport(flags.json, { summary, check, load });
  console.log(pc.dim(`JSON result written to ${flags.json}`));
}
if (flags.html) {
  await writeHtmlReport(flags.html, [{ summary, check, load }]);
  console.log(`HTML report: ${flags.html}`);
}
