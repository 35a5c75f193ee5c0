import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { requestJson } from "../load/http-json.ts";
import { startAppCluster } from "../processes/app-cluster.ts";
import {
  ensureRedis,
  type RedisHandle,
  RedisNotInstalledError,
} from "../processes/redis-server.ts";
import { backendOf, getScenario, type ScenarioName } from "../scenarios.ts";
import type { AppName } from "../types.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The ports `npm start` uses (scripts/start.ts keeps its copy private, so this is one). */
export const DEFAULT_PORTS: Record<AppName, number> = { broken: 3001, fixed: 3002, exercise: 3003 };

const HealthSchema = z.object({ app: z.string(), scenario: z.string() });

/** The app the chat talks to, and how to let go of it. */
export interface ChatTarget {
  url: string;
  app: string;
  scenario: string;
  /** Where it came from, for the banner: "already running on :3001", "started here with 4 workers". */
  where: string;
  /** True when this process started it (and stop() stops it). */
  owned: boolean;
  /** The cluster's JSON logs, when this process started it. */
  logFile?: string;
  /** Stops whatever this process started (nothing for an app someone else runs). */
  stop(): Promise<void>;
}

export interface FindOrStartOptions {
  app: AppName;
  scenario: ScenarioName;
  workers: number;
  /** An app to use as it is (`--url`): never started or stopped here. */
  url?: string;
  /** Look for an app from `npm start` on the app's default port before starting one. */
  reuse: boolean;
  /** Overrides DEFAULT_PORTS[app] for that look (tests). */
  probePort?: number;
  /** Passed to an app this process starts, so the tokens it issues are accepted. */
  authSecret: string;
  logDir?: string;
  note?: (message: string) => void;
}

/** What `/healthz` says about the app at `url`, or undefined when nothing sensible answers. */
export async function probeHealth(
  url: string,
  timeoutMs = 1000,
): Promise<{ app: string; scenario: string } | undefined> {
  try {
    const response = await requestJson(`${url}/healthz`, { timeoutMs });
    const body = HealthSchema.safeParse(response.body);
    return response.status === 200 && body.success ? body.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `--url` as given; else the app `npm start` runs on its default port, if it is the app
 * and scenario asked for; else a cluster of our own (with Redis or a state dir if it needs one).
 */
export async function findOrStartApp(options: FindOrStartOptions): Promise<ChatTarget> {
  const note = options.note ?? (() => {});
  const { app, scenario } = options;
  if (options.url) {
    const url = options.url.replace(/\/+$/, "");
    const health = await probeHealth(url);
    if (!health) note(`${url}/healthz does not answer; trying the chat anyway`);
    else if (health.app !== app || health.scenario !== scenario)
      note(`${url} serves ${health.app}/${health.scenario}, not ${app}/${scenario}`);
    return {
      url,
      app: health?.app ?? app,
      scenario: health?.scenario ?? scenario,
      where: "given with --url",
      owned: false,
      stop: async () => {},
    };
  }
  if (options.reuse) {
    const port = options.probePort ?? DEFAULT_PORTS[app];
    const url = `http://127.0.0.1:${port}`;
    const health = await probeHealth(url);
    if (health?.app === app && health.scenario === scenario) {
      return {
        url,
        app,
        scenario,
        where: `already running on :${port}`,
        owned: false,
        stop: async () => {},
      };
    }
    note(
      health
        ? `:${port} serves ${health.app}/${health.scenario}, not ${app}/${scenario}: starting a cluster of my own`
        : `no ${app} app on :${port} (npm start): starting a cluster of my own`,
    );
  }
  return startOwnApp(options, note);
}

/** The plumbing of runDemo (lib/demo/run-demo.ts), minus the load: everything started is undone by stop(). */
async function startOwnApp(
  options: FindOrStartOptions,
  note: (message: string) => void,
): Promise<ChatTarget> {
  const { app, workers } = options;
  let scenario = options.scenario;
  let redis: RedisHandle | undefined;
  if (backendOf(app, scenario) === "redis") {
    try {
      redis = await ensureRedis();
      note(
        redis.owned
          ? `started a private redis-server at ${redis.url}`
          : `using REDIS_URL ${redis.url}`,
      );
    } catch (error) {
      // Same fallback as the demo: the fixed memory app can run on the shared file store.
      if (!(error instanceof RedisNotInstalledError && app === "fixed" && scenario === "memory"))
        throw error;
      scenario = "file-store";
      note(
        "redis-server is not installed and REDIS_URL is not set: running the fixed file-store app instead",
      );
    }
  }
  let stateDir: string | undefined;
  try {
    // A throwaway state directory, so file-backed variants never see an older run's files.
    if (backendOf(app, scenario) === "files")
      stateDir = await mkdtemp(join(tmpdir(), "agent-sandbox-state-"));
    const logFile = join(
      options.logDir ?? join(ROOT, ".runs"),
      `chat-${app}-${scenario}-${Date.now()}.log`,
    );
    const cluster = await startAppCluster({
      app,
      scenario,
      workers,
      logFile,
      env: {
        ...scenarioEnv(scenario),
        REDIS_URL: redis?.url,
        STATE_DIR: stateDir,
        AUTH_SECRET: options.authSecret,
      },
    });
    const cleanup = { redis, stateDir };
    return {
      url: cluster.url,
      app,
      scenario,
      where: `started here with ${workers} worker${workers === 1 ? "" : "s"}`,
      owned: true,
      logFile,
      stop: async () => {
        await cluster.stop();
        await release(cleanup);
      },
    };
  } catch (error) {
    await release({ redis, stateDir });
    throw error;
  }
}

async function release({ redis, stateDir }: { redis?: RedisHandle; stateDir?: string }) {
  await redis?.stop();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
}

/** The scenario's default environment (its race window, say), unless ours sets it. */
function scenarioEnv(scenario: ScenarioName): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(getScenario(scenario).env)) {
    env[name] = process.env[name] ?? value;
  }
  return env;
}
