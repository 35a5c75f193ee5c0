import { join } from "node:path";
import { issueToken } from "../auth.ts";
import { checkRun } from "../check/checker.ts";
import { DEV_AUTH_SECRET } from "../config.ts";
import type { LoadFlags } from "../load/cli-options.ts";
import { runLoad } from "../load/run-load.ts";
import { startAppCluster } from "../processes/app-cluster.ts";
import { ensureRedis, type RedisHandle } from "../processes/redis-server.ts";
import { summarize } from "../report/summary.ts";
import type { RunReport } from "../report/write-json.ts";
import type { AppName } from "../types.ts";

export interface DemoOptions extends LoadFlags {
  app: AppName;
  scenario: string;
  /** Simulated model latency per turn, in ms. */
  agentLatencyMs: number;
  /** Folder for the cluster's JSON logs. */
  logDir: string;
  progress: boolean;
  /** Called with progress notes ("starting redis-server on ...") for the person watching. */
  note?: (message: string) => void;
}

export interface DemoResult extends RunReport {
  logFile: string;
}

/**
 * The whole demo for one app: Redis if the app needs it (REDIS_URL or a private
 * redis-server), the app's cluster on a free port, the load test, the checker.
 * Everything it started is stopped before it returns, also on failure.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const note = options.note ?? (() => {});
  const secret = process.env.AUTH_SECRET ?? DEV_AUTH_SECRET;
  let redis: RedisHandle | undefined;
  if (options.app === "fixed") {
    redis = await ensureRedis();
    note(
      redis.owned
        ? `started a private redis-server at ${redis.url}`
        : `using REDIS_URL ${redis.url}`,
    );
  }
  const logFile = join(options.logDir, `${options.app}-${options.scenario}-${Date.now()}.log`);
  try {
    const cluster = await startAppCluster({
      app: options.app,
      scenario: options.scenario,
      workers: options.workers,
      logFile,
      env: {
        REDIS_URL: redis?.url,
        AUTH_SECRET: secret,
        AGENT_LATENCY_MS: String(options.agentLatencyMs),
      },
    });
    note(`${options.app} app: ${options.workers} worker(s) on ${cluster.url}, logs in ${logFile}`);
    try {
      const token = issueToken({ tenant: "workshop", user: `demo-${process.pid}` }, secret);
      const load = await runLoad({
        url: cluster.url,
        token,
        conversations: options.conversations,
        turns: options.turns,
        connections: options.connections,
        workers: options.workers,
        sticky: options.sticky,
        timeoutSeconds: options.timeout,
        maxSeconds: options["max-seconds"],
        progress: options.progress,
      });
      const check = checkRun(load);
      const summary = summarize(options.app, options.scenario, load, check);
      return { summary, check, load, logFile };
    } finally {
      await cluster.stop();
    }
  } finally {
    await redis?.stop();
  }
}
