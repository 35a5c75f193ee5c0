import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AppName,
  backendOf,
  getScenario,
  type ScenarioName,
} from "../../scenarios/catalogue.ts";
import { plural } from "../check/wording.ts";
import { type AppCluster, startAppCluster, waitForStore } from "./app-cluster.ts";
import { type RedisClusterHandle, startLocalRedisCluster } from "./redis-cluster.ts";
import { type RedisSentinelHandle, startRedisSentinel } from "./redis-sentinel.ts";
import { ensureRedis, type RedisHandle, RedisNotInstalledError } from "./redis-server.ts";

export interface ScenarioAppsOptions {
  app: AppName;
  scenario: ScenarioName;
  workers: number;
  /** Independent app clusters standing for separate machines (default 1). */
  replicas?: number;
  /** Redis-backed apps use a local 3-master Redis Cluster instead of one redis-server. */
  redisCluster?: boolean;
  /** Redis-backed apps use a local primary + 2 replicas under 3 Sentinels instead. */
  redisSentinel?: boolean;
  /** The log file for the scenario that actually runs; `-hostN` is added per replica. */
  logFile: (scenario: ScenarioName) => string;
  /** Environment for the apps; wins over the scenario's defaults. */
  env?: Record<string, string | undefined>;
  note?: (message: string) => void;
}

export interface ScenarioApps {
  clusters: AppCluster[];
  /** The scenario that runs (the fixed memory app falls back to file-store without Redis). */
  scenario: ScenarioName;
  logFile: string;
  /** The per-user turn limit the apps run with, when one is set (RATE_LIMIT_TURNS_PER_MINUTE). */
  turnLimitPerMinute?: number;
  /** Stops the apps, then whatever they needed (Redis, the state directory). */
  stop(): Promise<void>;
}

/**
 * Everything one app of a scenario needs, started: Redis if it needs it (REDIS_URL, a private
 * redis-server, a local Redis Cluster, or a local primary with replicas under Sentinel), a
 * fresh state directory if it keeps files, and its
 * cluster(s) on free ports with the scenario's default environment (its race window, say).
 * On failure, whatever was started is stopped again.
 */
export async function startScenarioApps(options: ScenarioAppsOptions): Promise<ScenarioApps> {
  const note = options.note ?? (() => {});
  let scenario = options.scenario;
  let redis: RedisHandle | undefined;
  let redisCluster: RedisClusterHandle | undefined;
  let sentinel: RedisSentinelHandle | undefined;
  if (options.redisCluster && backendOf(options.app, scenario) === "redis") {
    redisCluster = await startLocalRedisCluster();
    note(`started a local Redis Cluster (3 masters): ${redisCluster.nodes}`);
  } else if (options.redisSentinel && backendOf(options.app, scenario) === "redis") {
    sentinel = await startRedisSentinel();
    note(`started a local primary + 2 replicas under 3 Sentinels: ${sentinel.sentinels}`);
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
  const clusters: AppCluster[] = [];
  let stateDir: string | undefined;
  const stop = async () => {
    for (const cluster of clusters) await cluster.stop();
    await redis?.stop();
    await redisCluster?.stop();
    await sentinel?.stop();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  };
  try {
    // A fresh state directory per run, removed afterwards, for file-backed variants.
    if (backendOf(options.app, scenario) === "files") {
      stateDir = await mkdtemp(join(tmpdir(), "agent-sandbox-state-"));
    }
    const replicas = options.replicas ?? 1;
    const several = replicas > 1;
    const logFile = options.logFile(scenario);
    const defaults = { ...scenarioEnv(scenario), ...options.env };
    for (let host = 1; host <= replicas; host++) {
      const cluster = await startAppCluster({
        app: options.app,
        scenario,
        workers: options.workers,
        logFile: several ? logFile.replace(/\.log$/, `-host${host}.log`) : logFile,
        env: {
          ...defaults,
          REDIS_URL: redis?.url,
          REDIS_CLUSTER_NODES: redisCluster?.nodes,
          REDIS_SENTINELS: sentinel?.sentinels,
          REDIS_SENTINEL_NAME: sentinel?.name,
          // Separate machines have separate disks: a state directory per host.
          STATE_DIR: stateDir && several ? join(stateDir, `host-${host}`) : stateDir,
          HOST_LABEL: several ? `host-${host}` : undefined,
          ...options.env,
        },
      });
      clusters.push(cluster);
      if (redisCluster || sentinel) await waitForStore(cluster.url, options.workers);
      note(
        `${options.app} app${several ? ` host-${host}` : ""}: ${options.workers} ${plural(options.workers, "worker")} on ${cluster.url}, logs in ${cluster.logFile}`,
      );
    }
    const limit = Number(defaults.RATE_LIMIT_TURNS_PER_MINUTE ?? 0);
    return { clusters, scenario, logFile, turnLimitPerMinute: limit > 0 ? limit : undefined, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The scenario's default environment, unless the caller's environment sets it. */
function scenarioEnv(scenario: ScenarioName): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(getScenario(scenario).env)) {
    env[name] = process.env[name] ?? value;
  }
  return env;
}
