import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { askRedis, type RedisTarget } from "./ask-redis.ts";
import { freePort } from "./free-port.ts";
import { spawnRedis } from "./redis-server.ts";
import { stopChild } from "./stop-child.ts";

const HOST = "127.0.0.1";
/**
 * The ACL user replicas authenticate as (`masteruser`): switching it off on the primary is how
 * a replication link is cut. Not a TCP proxy in the link: Sentinel sees a replica replicating
 * from an address other than the primary's and points it straight at the primary within
 * seconds (`+fix-slave-config`, after failover-timeout), which would silently heal the cut.
 */
const REPLICATION_USER = "replicator";

/** A Redis node's address, as Sentinel gives it. */
export interface RedisAddress {
  host: string;
  port: number;
}

export interface RedisSentinelOptions {
  /** Replicas of the primary (at least 1, default 2). */
  replicas?: number;
  /** Sentinel processes (at least 1, default 3); the quorum is 2, or 1 with one sentinel. */
  sentinels?: number;
  /** The master name the sentinels monitor (REDIS_SENTINEL_NAME): default `mymaster`. */
  name?: string;
  /**
   * Every data node then requires it (`requirepass`) and the sentinels use it (`auth-pass`);
   * the sentinels themselves take no password. Replicas authenticate to their primary as their
   * own user either way (`masteruser`, `masterauth`: a random password).
   */
  password?: string;
  /** How long start may take before it fails naming what was not ready (default 30 s). */
  timeoutMs?: number;
}

/** A throwaway primary with replicas under Sentinel, which a test can partition and fail over. */
export interface RedisSentinelHandle {
  /** The sentinels as REDIS_SENTINELS expects them: `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`. */
  readonly sentinels: string;
  /** The master name they monitor (REDIS_SENTINEL_NAME). */
  readonly name: string;
  /** The data nodes' ports: the primary at start first, then its replicas. */
  readonly ports: number[];
  /** The sentinels' ports. */
  readonly sentinelPorts: number[];
  /** The data nodes' password, when started with one. */
  readonly password: string | undefined;
  /** The temp dir holding every node's config and data; removed by `stop()`. */
  readonly dir: string;
  /** The current primary as the sentinels say (the first sentinel that answers). */
  primary(): Promise<RedisAddress>;
  /**
   * Cuts every replica's link to the current primary, until `restoreReplication()`: the
   * primary drops its replicas and refuses them when they reconnect, so its writes reach no
   * replica. Only that primary's links: a replica promoted after it is killed serves its own
   * replicas normally, as after a real partition of the old primary. Sentinel promotes no
   * replica whose link has been down for more than about 10 s (10 × down-after-milliseconds,
   * plus the time the primary has been down): kill the primary sooner than that.
   */
  cutReplication(): Promise<void>;
  /** Lets replicas connect to any node again; they reconnect (partial resync) within ~1 s. */
  restoreReplication(): Promise<void>;
  /** SIGKILLs the current primary's process (see `primary()`); resolves once it has exited. */
  killPrimary(): Promise<void>;
  /**
   * Resolves with the new primary once every sentinel names the same node, other than the one
   * `killPrimary()` killed last (or the primary at start), and that node's ROLE is master.
   */
  waitForPromotion(timeoutMs?: number): Promise<RedisAddress>;
  /** Stops every sentinel and data node and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Start gave up: names the condition that still did not hold at the deadline. */
export class RedisSentinelNotReadyError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`local Redis Sentinel setup not ready within ${timeoutMs} ms: ${what}`);
    this.name = "RedisSentinelNotReadyError";
  }
}

/** A process exited while starting: most likely another process took its port first. */
class ProcessExitedError extends Error {}

interface Settings {
  replicas: number;
  sentinels: number;
  name: string;
  password: string | undefined;
  timeoutMs: number;
  /** The replication user's password: random, the same on every node. */
  replicationPassword: string;
}

interface Proc {
  port: number;
  child: ChildProcess;
  /** The end of the process's output, for error messages. */
  output: () => string;
}

/**
 * Starts a throwaway primary, `replicas` replicas and `sentinels` sentinels on 127.0.0.1
 * (free ports, no persistence, one temp dir), tuned to fail over within seconds, and resolves
 * once every replica is in sync and every sentinel knows every replica and every other
 * sentinel. Throws RedisNotInstalledError without redis-server.
 */
export async function startRedisSentinel(
  options: RedisSentinelOptions = {},
): Promise<RedisSentinelHandle> {
  const settings = settingsOf(options);
  // A port that was free a moment ago can be taken before a node binds it: try other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(settings);
    } catch (error) {
      if (!(error instanceof ProcessExitedError) || attempt === 3) throw error;
    }
  }
}

function settingsOf(options: RedisSentinelOptions): Settings {
  const { replicas = 2, sentinels = 3, name = "mymaster", password, timeoutMs = 30_000 } = options;
  if (!Number.isInteger(replicas) || replicas < 1) throw new RangeError("replicas must be >= 1");
  if (!Number.isInteger(sentinels) || sentinels < 1) throw new RangeError("sentinels must be >= 1");
  if (!/^[\w.-]+$/.test(name)) throw new RangeError(`not a usable master name: "${name}"`);
  const replicationPassword = randomBytes(16).toString("hex");
  return { replicas, sentinels, name, password, timeoutMs, replicationPassword };
}

async function startOnce(settings: Settings): Promise<RedisSentinelHandle> {
  const dir = await mkdtemp(join(tmpdir(), "agent-sandbox-redis-sentinel-"));
  const data: Proc[] = [];
  const sentinels: Proc[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      // Sentinels first, so that none sees a data node go and starts a failover.
      await Promise.all(sentinels.map((proc) => stopChild(proc.child)));
      await Promise.all(data.map((proc) => stopChild(proc.child)));
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    const deadline = Date.now() + settings.timeoutMs;
    const ports = await distinctFreePorts(1 + settings.replicas + settings.sentinels);
    const dataPorts = ports.slice(0, 1 + settings.replicas);
    const [primaryPort = 0] = dataPorts;
    for (const port of dataPorts) data.push(await startDataNode(port, primaryPort, dir, settings));
    const ready = (what: string, check: () => Promise<string | true>) =>
      waitUntil([...data, ...sentinels], { what, deadline, timeoutMs: settings.timeoutMs }, check);
    await ready("replicas in sync", () => replicationIsUp(dataPorts, settings));
    // Started once the replicas are online, a sentinel learns them from its first INFO of the
    // primary instead of the next one, ten seconds later.
    for (const port of ports.slice(dataPorts.length))
      sentinels.push(await startSentinel(port, primaryPort, dir, settings));
    await ready("sentinels knowing every node", () => sentinelsKnowEveryone(sentinels, settings));
    return handle(dir, data, sentinels, settings, stop);
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `count` distinct ports that were free a moment ago. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** A value quoted for a Redis config file. */
function quote(value: string): string {
  const escaped = value
    .replace(/[\\"]/g, (char) => `\\${char}`)
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r");
  return `"${escaped}"`;
}

async function startDataNode(
  port: number,
  primaryPort: number,
  dir: string,
  settings: Settings,
): Promise<Proc> {
  const nodeDir = join(dir, `node-${port}`);
  await mkdir(nodeDir);
  const replication = quote(settings.replicationPassword);
  const lines = [
    `port ${port}`,
    `bind ${HOST}`,
    `dir ${quote(nodeDir)}`,
    'save ""',
    "appendonly no",
    // A replica's full sync starts at once instead of waiting for more replicas to join it.
    "repl-diskless-sync-delay 0",
    // The primary lists its replicas, and so Sentinel finds them, at their own address.
    `replica-announce-ip ${HOST}`,
    `replica-announce-port ${port}`,
    `user ${REPLICATION_USER} on ${quote(`>${settings.replicationPassword}`)} +psync +replconf +ping`,
    `masteruser ${REPLICATION_USER}`,
    `masterauth ${replication}`,
  ];
  if (settings.password) lines.push(`requirepass ${quote(settings.password)}`);
  if (port !== primaryPort) lines.push(`replicaof ${HOST} ${primaryPort}`);
  // A config file, not arguments: Sentinel sends CONFIG REWRITE with every REPLICAOF.
  const file = join(nodeDir, "redis.conf");
  await writeFile(file, `${lines.join("\n")}\n`);
  return spawnProc(port, [file]);
}

async function startSentinel(
  port: number,
  primaryPort: number,
  dir: string,
  settings: Settings,
): Promise<Proc> {
  const { name } = settings;
  const lines = [
    `port ${port}`,
    `bind ${HOST}`,
    `dir ${quote(dir)}`,
    `sentinel monitor ${name} ${HOST} ${primaryPort} ${Math.min(2, settings.sentinels)}`,
    // Fast: a primary is down after 1 s of silence, a stuck failover is retried after 10 s.
    `sentinel down-after-milliseconds ${name} 1000`,
    `sentinel failover-timeout ${name} 5000`,
    `sentinel parallel-syncs ${name} 1`,
  ];
  if (settings.password) lines.push(`sentinel auth-pass ${name} ${quote(settings.password)}`);
  // Sentinel rewrites its config file as it learns: each needs its own, writable.
  const file = join(dir, `sentinel-${port}.conf`);
  await writeFile(file, `${lines.join("\n")}\n`);
  return spawnProc(port, [file, "--sentinel"]);
}

async function spawnProc(port: number, args: string[]): Promise<Proc> {
  let tail = "";
  const child = await spawnRedis(args, (chunk) => {
    tail = (tail + chunk.toString()).slice(-2000);
  });
  return { port, child, output: () => tail };
}

/** A data node's address, with the password when there is one. */
function nodeAt(port: number, password: string | undefined): RedisTarget {
  return password ? { host: HOST, port, password } : { host: HOST, port };
}

/** `INFO` text as fields. */
function infoFields(info: unknown): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of String(info).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** True once the primary has every replica online and every replica's link is up. */
async function replicationIsUp(ports: number[], settings: Settings): Promise<string | true> {
  const [primaryPort = 0, ...replicaPorts] = ports;
  const primary = infoFields(
    await askRedis(nodeAt(primaryPort, settings.password), "INFO", "replication"),
  );
  const online = [...primary.entries()].filter(
    ([key, value]) => /^slave\d+$/.test(key) && value.includes("state=online"),
  ).length;
  if (online !== replicaPorts.length) {
    return `the primary ${HOST}:${primaryPort} has ${online} of ${replicaPorts.length} replicas online`;
  }
  for (const port of replicaPorts) {
    const replica = infoFields(
      await askRedis(nodeAt(port, settings.password), "INFO", "replication"),
    );
    const link = replica.get("master_link_status");
    if (link !== "up") return `replica ${HOST}:${port} reports master_link_status:${link}`;
  }
  return true;
}

/** A `SENTINEL replicas|sentinels` reply as one map of fields per instance. */
function instances(reply: unknown): Map<string, string>[] {
  return (reply as string[][]).map((flat) => {
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), String(flat[i + 1]));
    return fields;
  });
}

/** How many of `list` are reachable: no s_down, o_down or disconnected flag. */
function healthy(list: Map<string, string>[]): number {
  return list.filter((fields) => !/down|disconnected/.test(fields.get("flags") ?? "")).length;
}

/** True once every sentinel lists every replica and every other sentinel as reachable. */
async function sentinelsKnowEveryone(
  sentinels: Proc[],
  settings: Settings,
): Promise<string | true> {
  for (const { port } of sentinels) {
    const at = { host: HOST, port };
    const replicas = healthy(instances(await askRedis(at, "SENTINEL", "REPLICAS", settings.name)));
    if (replicas !== settings.replicas) {
      return `sentinel ${HOST}:${port} lists ${replicas} of ${settings.replicas} replicas as up`;
    }
    const others = healthy(instances(await askRedis(at, "SENTINEL", "SENTINELS", settings.name)));
    if (others !== sentinels.length - 1) {
      return `sentinel ${HOST}:${port} knows ${others} of ${sentinels.length - 1} other sentinels`;
    }
  }
  return true;
}

interface Wait {
  /** What is awaited, for the error: "replicas in sync". */
  what: string;
  deadline: number;
  timeoutMs: number;
}

/**
 * Polls `check` until it returns true; fails at once if a process exits, or at the deadline
 * naming what `check` last said was missing.
 */
async function waitUntil(
  procs: Proc[],
  { what, deadline, timeoutMs }: Wait,
  check: () => Promise<string | true>,
): Promise<void> {
  for (;;) {
    const exited = procs.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
    if (exited) {
      const { port, child } = exited;
      throw new ProcessExitedError(
        `redis-server on port ${port} exited (${child.signalCode ?? child.exitCode}):\n${exited.output()}`,
      );
    }
    const result = await check().catch((error: Error) => `no answer yet (${error.message})`);
    if (result === true) return;
    if (Date.now() >= deadline)
      throw new RedisSentinelNotReadyError(`${what}: ${result}`, timeoutMs);
    await sleep(50);
  }
}

function handle(
  dir: string,
  data: Proc[],
  sentinels: Proc[],
  settings: Settings,
  stop: () => Promise<void>,
): RedisSentinelHandle {
  const { name, password } = settings;
  const askSentinel = (port: number) =>
    askRedis({ host: HOST, port }, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", name).then(toAddress);
  const primary = async (): Promise<RedisAddress> => {
    for (const { port } of sentinels) {
      const address = await askSentinel(port).catch(() => undefined);
      if (address) return address;
    }
    throw new Error(`no sentinel of ${name} answered with its primary`);
  };
  const [firstPort = 0] = data.map((proc) => proc.port);
  let replaced: RedisAddress = { host: HOST, port: firstPort };
  const admin = (port: number, ...command: string[]) =>
    askRedis(nodeAt(port, password), command[0] ?? "PING", ...command.slice(1));
  const alive = () => data.filter(({ child }) => child.exitCode === null && !child.signalCode);
  return {
    sentinels: sentinels.map(({ port }) => `${HOST}:${port}`).join(","),
    name,
    ports: data.map(({ port }) => port),
    sentinelPorts: sentinels.map(({ port }) => port),
    password,
    dir,
    primary,
    cutReplication: async () => {
      const { port } = await primary();
      // Off first, then drop the links: the replicas' reconnects then fail their AUTH.
      await admin(port, "ACL", "SETUSER", REPLICATION_USER, "off");
      await admin(port, "CLIENT", "KILL", "USER", REPLICATION_USER);
    },
    restoreReplication: async () => {
      await Promise.all(
        alive().map(({ port }) => admin(port, "ACL", "SETUSER", REPLICATION_USER, "on")),
      );
    },
    killPrimary: async () => {
      const address = await primary();
      const node = data.find(({ port }) => port === address.port);
      if (!node) throw new Error(`the sentinels name ${address.port}, which is not a node here`);
      await stopChild(node.child, 5000, "SIGKILL");
      replaced = address;
    },
    waitForPromotion: (timeoutMs = 30_000) =>
      waitForNewPrimary(sentinels, replaced, askSentinel, admin, timeoutMs),
    stop,
  };
}

function toAddress(reply: unknown): RedisAddress | undefined {
  const [host, port] = (reply ?? []) as string[];
  return host && port ? { host, port: Number(port) } : undefined;
}

async function waitForNewPrimary(
  sentinels: Proc[],
  replaced: RedisAddress,
  askSentinel: (port: number) => Promise<RedisAddress | undefined>,
  admin: (port: number, ...command: string[]) => Promise<unknown>,
  timeoutMs: number,
): Promise<RedisAddress> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const named = await Promise.all(
      sentinels.map(({ port }) => askSentinel(port).catch(() => undefined)),
    );
    const ports = new Set(named.map((address) => address?.port));
    const [candidate] = named;
    if (ports.size === 1 && candidate && candidate.port !== replaced.port) {
      const role = (await admin(candidate.port, "ROLE").catch(() => [])) as unknown[];
      if (role[0] === "master") return candidate;
      last = `${candidate.host}:${candidate.port} reports ROLE ${String(role[0])}`;
    } else {
      last = `the sentinels name ${named.map((a) => (a ? a.port : "nothing")).join(", ")}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`no replica replaced ${replaced.port} within ${timeoutMs} ms: ${last}`);
    }
    await sleep(50);
  }
}
