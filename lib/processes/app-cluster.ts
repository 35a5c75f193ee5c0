import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort } from "../net.ts";
import type { AppName } from "../types.ts";

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
    await stopProcess(child);
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
      await stopProcess(child);
      log?.end();
    },
  };
}

async function openLog(file: string) {
  await mkdir(dirname(file), { recursive: true });
  return createWriteStream(file, { flags: "a" });
}

async function stopProcess(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}
