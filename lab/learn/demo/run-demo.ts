import { join } from "node:path";
import { type AppName, getScenario, type ScenarioName } from "../../../scenarios/catalogue.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import { DEV_AUTH_SECRET } from "../../../service/config.ts";
import { checkRun } from "../../check/checker.ts";
import { type LoadFlags, resendRefused, streamLoad } from "../../load/cli-options.ts";
import { runLoad } from "../../load/run-load.ts";
import { startScenarioApps } from "../../processes/scenario-apps.ts";
import { summarize } from "../../report/summary.ts";
import type { RunReport } from "../../report/write-json.ts";

export interface DemoOptions extends Omit<LoadFlags, "replicas" | "resend-refused"> {
  /** Backoff before resending a definite refusal (503, 409), in ms; absent or 0: never. */
  "resend-refused"?: number;
  /** Independent app clusters standing for separate machines (default 1). */
  replicas?: number;
  /** Run Redis-backed apps against a local 3-master Redis Cluster instead of one redis-server. */
  redisCluster?: boolean;
  /** Run Redis-backed apps against a local primary + 2 replicas under 3 Sentinels. */
  redisSentinel?: boolean;
  app: AppName;
  scenario: ScenarioName;
  /** Simulated model latency per turn, in ms. */
  agentLatencyMs: number;
  /** Folder for the cluster's JSON logs. */
  logDir: string;
  progress: boolean;
  /** Extra environment for the app (e.g. TURN_STRATEGY); wins over the scenario's defaults. */
  env?: Record<string, string>;
  /** Called with progress notes ("starting redis-server on ...") for the person watching. */
  note?: (message: string) => void;
}

export interface DemoResult extends RunReport {
  logFile: string;
  /** The scenario that actually ran (the fixed memory demo falls back to file-store without Redis). */
  scenario: ScenarioName;
}

/**
 * The whole demo for one app: Redis if the app needs it (REDIS_URL or a private
 * redis-server), the app's cluster on a free port, the load test, the checker.
 * Everything it started is stopped before it returns, also on failure.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const secret = process.env.AUTH_SECRET ?? DEV_AUTH_SECRET;
  const replicas = options.replicas ?? 1;
  const apps = await startScenarioApps({
    app: options.app,
    scenario: options.scenario,
    workers: options.workers,
    replicas,
    redisCluster: options.redisCluster,
    redisSentinel: options.redisSentinel,
    logFile: (scenario) => join(options.logDir, `${options.app}-${scenario}-${Date.now()}.log`),
    env: { AUTH_SECRET: secret, AGENT_LATENCY_MS: String(options.agentLatencyMs), ...options.env },
    note: options.note,
  });
  try {
    const { scenario, clusters, logFile, turnLimitPerMinute } = apps;
    const [first] = clusters;
    if (!first) throw new Error("no app cluster started");
    const token = issueToken({ tenant: "workshop", user: `demo-${process.pid}` }, secret);
    const defaults = getScenario(scenario).load;
    const load = await runLoad({
      url: first.url,
      hosts: clusters.map((c) => c.url),
      token,
      conversations: options.conversations,
      turns: options.turns,
      connections: options.connections,
      workers: options.workers * replicas,
      sticky: options.sticky,
      overlap: options.overlap ?? defaults?.overlap ?? 1,
      retryRate: options["retry-rate"],
      ...streamLoad(options, defaults),
      readAfterMs: defaults?.readAfterMs,
      seed: options.seed,
      resendRefused: resendRefused(options),
      timeoutSeconds: options.timeout,
      maxSeconds: options["max-seconds"],
      progress: options.progress,
      turnLimitPerMinute,
    });
    const check = checkRun(load);
    const summary = summarize(options.app, scenario, load, check);
    return { summary, check, load, logFile, scenario };
  } finally {
    await apps.stop();
  }
}
