import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { AppName } from "../../scenarios/catalogue.ts";
import type { HealthResponse } from "../../service/contract.ts";
import { requestJson } from "../load/http-json.ts";
import { freePort } from "./free-port.ts";
import { stopChild } from "./stop-child.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const START_SCRIPT = join(ROOT, "scripts", "start.ts");

export interface AppClusterOptions {
  app: AppName;
  scenario: string;
  workers: number;
  /** Extra environment: REDIS_URL, AGENT_LATENCY_MS, AUTH_SECRET, ... */
  env?: Record<string, string | undefined>;
  /** Where the cluster's JSON logs go; defaults to discarding them. */
  logFile?: string;
  port?: number;
  startTimeoutMs?: number;
}

export interface AppCluster {
  url: string;
  port: number;
  pid: number;
  logFile?: string;
  /** SIGTERM to the primary, which drains its workers; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Starts `scripts/start.ts` as a child process and resolves once every worker listens. */
export async function startAppCluster(options: AppClusterOptions): Promise<AppCluster> {
  const port = options.port ?? (await freePort());
  const child = spawn(
    process.execPath,
    ["--import", "tsx", START_SCRIPT, "--app", options.app, "--scenario", options.scenario],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        // Logs go to the log file whatever the caller's own level is.
        LOG_LEVEL: "info",
        // The load test plays one user sending thousands of turns a minute: no per-user limit,
        // unless the scenario (rate-limit) or the caller sets one.
        RATE_LIMIT_TURNS_PER_MINUTE: process.env.RATE_LIMIT_TURNS_PER_MINUTE ?? "0",
        ...options.env,
        PORT: String(port),
        WORKERS: String(options.workers),
      },
      // The IPC channel carries the primary's "cluster_ready" message.
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    },
  );
  const log = options.logFile ? await openLog(options.logFile) : undefined;
  child.stderr?.on("data", (chunk: Buffer) => log?.write(chunk));
  const ready = new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => log?.write(`${line}\n`));
    child.on("message", (message: { type?: string }) => {
      if (message?.type === "cluster_ready") resolve();
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`${options.app} app exited before it was ready (${signal ?? code})`)),
    );
  });
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${options.app} app not ready within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    await stopChild(child, 15_000);
    log?.end();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? 0,
    logFile: options.logFile,
    stop: async () => {
      await stopChild(child, 15_000);
      log?.end();
    },
  };
}

async function openLog(file: string) {
  await mkdir(dirname(file), { recursive: true });
  return createWriteStream(file, { flags: "a" });
}

/**
 * Waits until `workers` distinct workers answer /healthz with their store reachable, so a
 * load does not start while a worker is still connecting. Throws, naming the laggards.
 */
export async function waitForStore(
  url: string,
  workers: number,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reachable = new Map<number, boolean>();
  while (Date.now() < deadline) {
    const health = await healthByWorker(url, workers * 3, workers);
    reachable = new Map([...health].map(([pid, body]) => [pid, body.store.reachable]));
    if (reachable.size >= workers && [...reachable.values()].every(Boolean)) return;
    await sleep(200);
  }
  const laggards = [...reachable.entries()].filter(([, ok]) => !ok).map(([pid]) => pid);
  throw new Error(
    `store not reachable from every worker of ${url} within ${timeoutMs} ms (pids ${laggards.join(", ") || "?"})`,
  );
}

/** The worker pids answering /healthz over `asks` fresh connections (the primary spreads them). */
export async function workerPids(url: string, asks: number): Promise<Set<number>> {
  return new Set((await healthByWorker(url, asks)).keys());
}

/**
 * /healthz asked over up to `asks` fresh connections, by the pid of the worker that answered;
 * stops early once `enough` workers have.
 */
async function healthByWorker(
  url: string,
  asks: number,
  enough = Number.POSITIVE_INFINITY,
): Promise<Map<number, HealthResponse>> {
  const health = new Map<number, HealthResponse>();
  for (let i = 0; i < asks && health.size < enough; i++) {
    const res = await requestJson(`${url}/healthz`, { timeoutMs: 2000 }).catch(() => undefined);
    const body = res?.body as HealthResponse | undefined;
    if (res?.status === 200 && body?.servedBy) health.set(body.servedBy.pid, body);
  }
  return health;
}

/**
 * Whether the primary replaced worker `victimPid`: `workers` distinct workers answer again
 * and none of them is the victim. Gives up (false) after `timeoutMs`.
 */
export async function waitForReplacement(
  url: string,
  workers: number,
  victimPid: number,
  timeoutMs = 10_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const pids = await workerPids(url, workers * 3);
    if (pids.size >= workers && !pids.has(victimPid)) return true;
    await sleep(100);
  }
  return false;
}
