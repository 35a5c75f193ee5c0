import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { issueToken } from "../auth.ts";
import { checkRun } from "../check/checker.ts";
import { DEV_AUTH_SECRET } from "../config.ts";
import type { LoadFlags } from "../load/cli-options.ts";
import { runLoad } from "../load/run-load.ts";
import { type AppCluster, startAppCluster, waitForStore } from "../processes/app-cluster.ts";
import { type RedisClusterHandle, startLocalRedisCluster } from "../processes/redis-cluster.ts";
import {
  ensureRedis,
  type RedisHandle,
  RedisNotInstalledError,
} from "../processes/redis-server.ts";
import { summarize } from "../report/summary.ts";
import type { RunReport } from "../report/write-json.ts";
import { backendOf, getScenario, type ScenarioName } from "../scenarios.ts";
import type { AppName } from "../types.ts";

export interface DemoOptions extends Omit<LoadFlags, "replicas"> {
  /** Independent app clusters standing for separate machines (default 1). */
  replicas?: number;
  /** Run Redis-backed apps against a local 3-master Redis Cluster instead of one redis-server. */
  redisCluster?: boolean;
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
  const note = options.note ?? (() => {});
  const secret = process.env.AUTH_SECRET ?? DEV_AUTH_SECRET;
  let scenario = options.scenario;
  let redis: RedisHandle | undefined;
  let redisCluster: RedisClusterHandle | undefined;
  if (options.redisCluster && backendOf(options.app, scenario) === "redis") {
    redisCluster = await startLocalRedisCluster();
    note(`started a local Redis Cluster (3 masters): ${redisCluster.nodes}`);
  } else if (backendOf(options.app, scenario) === "redis") {
    try {
      redis = await ensureRedis();
      note(
        redis.owned
          ? `started a private redis-server at ${redis.url}`
          : `using REDIS_URL ${redis.url}`,
      );
    } catch (error) {
      const canFallBack = options.app === "fixed" && scenario === "memory";
      if (!(error instanceof RedisNotInstalledError && canFallBack)) throw error;
      scenario = "file-store";
      note(
        "redis-server is not installed and REDIS_URL is not set: the fixed app runs on its embedded fallback, " +
          "the file store (one JSON file per conversation, shared by the workers of this machine only). " +
          "Install Redis to see the real fix.",
      );
    }
  }
  // A fresh state directory per run, removed afterwards, for file-backed variants.
  const stateDir =
    backendOf(options.app, scenario) === "files"
      ? await mkdtemp(join(tmpdir(), "agent-sandbox-state-"))
      : undefined;
  const replicas = options.replicas ?? 1;
  const stamp = Date.now();
  const logFile = join(options.logDir, `${options.app}-${scenario}-${stamp}.log`);
  const clusters: AppCluster[] = [];
  try {
    for (let host = 1; host <= replicas; host++) {
      const several = replicas > 1;
      const cluster = await startAppCluster({
        app: options.app,
        scenario,
        workers: options.workers,
        logFile: several ? logFile.replace(/\.log$/, `-host${host}.log`) : logFile,
        env: {
          ...scenarioEnv(scenario),
          REDIS_URL: redis?.url,
          REDIS_CLUSTER_NODES: redisCluster?.nodes,
          // Separate machines have separate disks: a state directory per host.
          STATE_DIR: stateDir && several ? join(stateDir, `host-${host}`) : stateDir,
          HOST_LABEL: several ? `host-${host}` : undefined,
          AUTH_SECRET: secret,
          AGENT_LATENCY_MS: String(options.agentLatencyMs),
          ...options.env,
        },
      });
      clusters.push(cluster);
      if (redisCluster) await waitForStore(cluster.url, options.workers);
      note(
        `${options.app} app${several ? ` host-${host}` : ""}: ${options.workers} worker(s) on ${cluster.url}, logs in ${cluster.logFile}`,
      );
    }
    const [first] = clusters;
    if (!first) throw new Error("no app cluster started");
    const token = issueToken({ tenant: "workshop", user: `demo-${process.pid}` }, secret);
    const load = await runLoad({
      url: first.url,
      hosts: clusters.map((c) => c.url),
      token,
      conversations: options.conversations,
      turns: options.turns,
      connections: options.connections,
      workers: options.workers * replicas,
      sticky: options.sticky,
      overlap: options.overlap ?? getScenario(scenario).load?.overlap ?? 1,
      retryRate: options["retry-rate"],
      seed: options.seed,
      timeoutSeconds: options.timeout,
      maxSeconds: options["max-seconds"],
      progress: options.progress,
    });
    const check = checkRun(load);
    const summary = summarize(options.app, scenario, load, check);
    return { summary, check, load, logFile, scenario };
  } finally {
    for (const cluster of clusters) await cluster.stop();
    await redis?.stop();
    await redisCluster?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  }
}

/** The scenario's default environment (its race window, say), unless the caller's environment sets it. */
function scenarioEnv(scenario: ScenarioName): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(getScenario(scenario).env)) {
    env[name] = process.env[name] ?? value;
  }
  return env;
}
