import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { askRedis, type RedisTarget } from "./ask-redis.ts";
import { freePort } from "./free-port.ts";
import { stopChild } from "./stop-child.ts";
import { makeTestCertificates } from "./tls-certificates.ts";

export interface RedisHandle {
  url: string;
  /** True when this process started the server (and so may stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

/**
 * How a private Redis keeps its data across a restart:
 * - `none`: nothing on disk; a restart starts empty (the default for tests and demos).
 * - `aof-always`: append-only file, fsync before each write is answered: an acknowledged
 *   write survives even SIGKILL or a power cut (one fsync per write: slower).
 * - `aof-everysec`: append-only file, fsync once a second: a crash can lose the last
 *   second of acknowledged writes; a clean shutdown loses nothing.
 */
export const PERSISTENCE_CHOICES = ["none", "aof-always", "aof-everysec"] as const;
export type RedisPersistence = (typeof PERSISTENCE_CHOICES)[number];

export interface PrivateRedisOptions {
  persistence?: RedisPersistence;
  /** `requirepass`: every client must send this password (it is then in `url` as well). */
  password?: string;
  /**
   * TLS only (no plain port): a certificate for 127.0.0.1 from a throwaway CA made in the
   * server's temp dir; `url` is then `rediss://` and a client must trust `caFile`.
   */
  tls?: boolean;
}

/**
 * A redis-server this process started, which it may crash and bring back (see lab/chaos).
 * Its `url` is complete but for the CA: `redis[s]://[:password@]127.0.0.1:port`, so a caller
 * sets REDIS_URL to it, plus REDIS_TLS_CA to `caFile` when TLS is on.
 */
export interface PrivateRedis extends RedisHandle {
  readonly persistence: RedisPersistence;
  readonly port: number;
  /** The password it requires, if any (also in `url`): for REDIS_PASSWORD and a password-free URL. */
  readonly password?: string;
  /** With `tls`: the PEM file of the CA that signed its certificate (REDIS_TLS_CA). */
  readonly caFile?: string;
  /** The server's pid right now (changes on restart), or undefined while it is down. */
  pid(): number | undefined;
  /**
   * Takes the server down: SIGTERM is a clean shutdown (Redis flushes its AOF first),
   * SIGKILL a crash. Resolves once the process has exited.
   */
  halt(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same port with the same data directory; resolves once it answers. */
  restart(): Promise<void>;
}

export class RedisNotInstalledError extends Error {
  constructor() {
    super(
      [
        "redis-server was not found on PATH, and REDIS_URL is not set.",
        "Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)",
        "or point the sandbox at a Redis you run: REDIS_URL=redis://127.0.0.1:6379 npm run demo",
      ].join("\n"),
    );
    this.name = "RedisNotInstalledError";
  }
}

/**
 * Uses `REDIS_URL` when set; otherwise starts a private, throwaway `redis-server` (its own
 * temp dir, a free port; persistence from `REDIS_PERSISTENCE`, none by default) and stops
 * it on `stop()`.
 */
export async function ensureRedis(env: NodeJS.ProcessEnv = process.env): Promise<RedisHandle> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, owned: false, stop: async () => {} };
  const persistence = (env.REDIS_PERSISTENCE ?? "none") as RedisPersistence;
  if (!PERSISTENCE_CHOICES.includes(persistence)) {
    throw new Error(
      `REDIS_PERSISTENCE must be one of ${PERSISTENCE_CHOICES.join(", ")}, not "${persistence}"`,
    );
  }
  return startPrivateRedis({ persistence });
}

function persistenceArgs(persistence: RedisPersistence): string[] {
  if (persistence === "none") return ["--appendonly", "no"];
  const appendfsync = persistence === "aof-always" ? "always" : "everysec";
  return ["--appendonly", "yes", "--appendfsync", appendfsync];
}

/** Starts a redis-server on a free port with its own temp dir; `stop()` removes both. */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const { persistence = "none", password } = options;
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "agent-sandbox-redis-"));
  const tls = options.tls ? await tlsArgs(dir, port) : undefined;
  const args = [
    ...(tls?.args ?? ["--port", String(port)]),
    ...(password === undefined ? [] : ["--requirepass", password]),
    "--bind",
    "127.0.0.1",
    // No RDB snapshots: persistence, when asked for, is the append-only file alone.
    "--save",
    "",
    ...persistenceArgs(persistence),
    "--dir",
    dir,
  ];
  const url = privateUrl(port, password, tls !== undefined);
  const target = { host: "127.0.0.1", port, password, tls: tls?.client };
  let child: ChildProcess | undefined = await spawnRedis(args);
  await waitForPing(target, child);
  return {
    url,
    owned: true,
    persistence,
    port,
    password,
    caFile: tls?.caFile,
    pid: () =>
      child && child.exitCode === null && child.signalCode === null ? child.pid : undefined,
    halt: async (signal) => {
      const running = child;
      child = undefined;
      if (running) await stopChild(running, 5000, signal);
    },
    restart: async () => {
      if (child) throw new Error("redis-server is still running: halt() it first");
      child = await spawnRedis(args);
      await waitForPing(target, child);
    },
    stop: async () => {
      if (child) await stopChild(child);
      child = undefined;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `redis[s]://[:password@]127.0.0.1:port`: what ioredis needs but a private CA. */
function privateUrl(port: number, password: string | undefined, tls: boolean): string {
  const auth = password === undefined ? "" : `:${encodeURIComponent(password)}@`;
  return `${tls ? "rediss" : "redis"}://${auth}127.0.0.1:${port}`;
}

/**
 * TLS on `port` and no plain port; certificates made in `dir`. Clients need no certificate
 * of their own (`--tls-auth-clients no`): the sandbox's clients authenticate by password.
 */
async function tlsArgs(dir: string, port: number) {
  const { caFile, certFile, keyFile } = await makeTestCertificates(dir);
  const args = ["--port", "0", "--tls-port", String(port), "--tls-cert-file", certFile];
  args.push("--tls-key-file", keyFile, "--tls-ca-cert-file", caFile, "--tls-auth-clients", "no");
  return { args, caFile, client: { ca: await readFile(caFile) } };
}

/**
 * Starts `redis-server` with `args`; resolves once the process exists (not yet serving).
 * Its output goes to `onOutput`: always read, since a full pipe would stall the server.
 */
export async function spawnRedis(
  args: string[],
  onOutput: (chunk: Buffer) => void = () => {},
): Promise<ChildProcess> {
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", onOutput);
  child.stderr?.on("data", onOutput);
  // events.once("spawn") would reject on "error"; listen for both by hand.
  const spawned = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    child.once("spawn", () => resolve(null));
    child.once("error", (error) => resolve(error));
  });
  if (spawned?.code === "ENOENT") throw new RedisNotInstalledError();
  if (spawned) throw spawned;
  return child;
}

async function waitForPing(
  target: Exclude<RedisTarget, string>,
  child: ChildProcess,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
    // While it loads its AOF, Redis answers -LOADING; PONG means it serves data again.
    if ((await askRedis(target, "PING").catch(() => "not up yet")) === "PONG") return;
    await sleep(50);
  }
  const where = `${target.host}:${target.port}`;
  throw new Error(`redis-server did not answer on ${where} within ${timeoutMs} ms`);
}
