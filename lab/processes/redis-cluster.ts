import { type ChildProcess, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { askRedis } from "./ask-redis.ts";
import { freePort, isPortFree } from "./free-port.ts";
import { RedisNotInstalledError, spawnRedis } from "./redis-server.ts";
import { stopChild } from "./stop-child.ts";

const run = promisify(execFile);

/** `redis-cli --cluster create` needs at least three masters. */
const MASTERS = 3;
/** Each node also listens on its cluster bus port: its data port + 10000. */
const BUS_PORT_OFFSET = 10_000;
const HOST = "127.0.0.1";
/**
 * With replicas, a master silent this long is failed and its replica promoted (the default,
 * 15 s, is too slow for a test); not much lower, or a busy machine fails healthy masters.
 */
const NODE_TIMEOUT_MS = 2000;
/** The ACL user replicas authenticate as: switched off on a master to cut its replicas off. */
const REPLICATION_USER = "replicator";

export interface LocalRedisClusterOptions {
  /** Replicas per master: 0 (the default: three nodes) or 1 (six nodes). */
  replicas?: 0 | 1;
  /** How long start may take (default 30 s). */
  timeoutMs?: number;
}

export interface RedisClusterHandle {
  /**
   * Every node as REDIS_CLUSTER_NODES expects them: `127.0.0.1:P1,127.0.0.1:P2,...` (the
   * replicas too: a client can still find the cluster after a master is killed).
   */
  nodes: string;
  /** Every node's port; without replicas, the three masters. */
  ports: number[];
  /** Replicas per master. */
  replicas: 0 | 1;
  /** The temp dir holding the nodes' cluster config files; removed by `stop()`. */
  dir: string;
  /** The ports of the nodes that are masters right now, by their first slot (slot 0 first). */
  masters(): Promise<number[]>;
  /**
   * SIGKILLs a master: `which` is its port, or an index into `masters()`. Resolves with the
   * killed port once the process has exited.
   */
  killMaster(which: number): Promise<number>;
  /**
   * Resolves with the port of the node now serving the slots of the master killed on `port`,
   * once every live node reports `cluster_state:ok`, every slot served, and that master failed
   * and left without slots. Only for a master `killMaster()` killed.
   */
  waitForPromotion(port: number, timeoutMs?: number): Promise<number>;
  /**
   * Cuts every replica's replication link to its master (every master drops its replicas and
   * refuses them again until `restoreReplication()`); the cluster bus still runs, so the
   * cluster stays ok. A replica cut off for more than about 10 node timeouts (20 s) is too
   * stale to be promoted. Does nothing without replicas.
   */
  cutReplication(): Promise<void>;
  /** Lets replicas connect again; they reconnect (partial resync) within about a second. */
  restoreReplication(): Promise<void>;
  /**
   * Starts a killed node again on its port with its cluster config file, as an orchestrator
   * would; resolves once it has rejoined as a replica of the master that took its slots over
   * and is in sync (until then that master has no replica: a WAIT 1 there cannot succeed).
   */
  restartNode(port: number, timeoutMs?: number): Promise<void>;
  /** Stops every node and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export class RedisClusterToolMissingError extends Error {
  constructor(tool: "redis-server" | "redis-cli") {
    super(
      [
        `${tool} was not found on PATH: a local Redis Cluster needs both redis-server and redis-cli.`,
        "Install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)",
        "or point the fixed app at a cluster you run: REDIS_CLUSTER_NODES=host1:port1,host2:port2 npm run start:fixed",
      ].join("\n"),
    );
    this.name = "RedisClusterToolMissingError";
  }
}

interface Node {
  port: number;
  child: ChildProcess;
  /** The end of the node's output, for error messages. */
  output: () => string;
}

interface Settings {
  replicas: 0 | 1;
  timeoutMs: number;
  /** The replication user's password (random), when there are replicas. */
  replicationPassword: string | undefined;
}

/**
 * Starts a throwaway Redis Cluster of three masters on 127.0.0.1 (free ports, no persistence,
 * one temp dir), each with `replicas` replicas (none by default), joins it with
 * `redis-cli --cluster create`, and resolves once every node reports `cluster_state:ok` and
 * every replica is in sync with its master.
 */
export async function startLocalRedisCluster(
  options: LocalRedisClusterOptions = {},
): Promise<RedisClusterHandle> {
  const { replicas = 0, timeoutMs = 30_000 } = options;
  if (replicas !== 0 && replicas !== 1) throw new RangeError("replicas must be 0 or 1");
  const replicationPassword = replicas ? randomBytes(16).toString("hex") : undefined;
  await requireRedisCli();
  // A port that was free a moment ago can be taken before a node binds it: try other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ replicas, timeoutMs, replicationPassword });
    } catch (error) {
      if (!(error instanceof NodeExitedError) || attempt === 3) throw error;
    }
  }
}

class NodeExitedError extends Error {}

async function startOnce(settings: Settings): Promise<RedisClusterHandle> {
  const dir = await mkdtemp(join(tmpdir(), "agent-sandbox-redis-cluster-"));
  const nodes: Node[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(nodes.map((node) => stopChild(node.child)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + settings.timeoutMs;
    const total = MASTERS * (1 + settings.replicas);
    const ports = await clusterPorts(total);
    for (const port of ports) nodes.push(await startNode(port, dir, settings));
    for (const node of nodes)
      await waitFor(
        node,
        deadline,
        async () => (await askRedis({ host: HOST, port: node.port }, "PING")) === "PONG",
      );
    const addresses = ports.map((port) => `${HOST}:${port}`);
    await createCluster(addresses, settings);
    for (const node of nodes) await waitFor(node, deadline, () => clusterIsOk(node.port, total));
    for (const node of nodes) await waitFor(node, deadline, () => linkIsUp(node.port));
    return { ...handle(nodes, settings, dir), nodes: addresses.join(","), ports, dir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function requireRedisCli(): Promise<void> {
  try {
    await run("redis-cli", ["--version"]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new RedisClusterToolMissingError("redis-cli");
    }
    throw error;
  }
}

/** `count` distinct free ports whose bus ports (+10000) are free and valid too. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt > 200) throw new Error("could not find free ports for a local Redis Cluster");
    const port = await freePort();
    const bus = port + BUS_PORT_OFFSET;
    const taken = ports.flatMap((p) => [p, p + BUS_PORT_OFFSET]);
    if (bus > 65_535 || taken.includes(port) || taken.includes(bus)) continue;
    if (await isPortFree(bus)) ports.push(port);
  }
  return ports;
}

/** What replicas need: a fast failover, a sync that starts at once, a user to cut off. */
function replicaArgs(password: string | undefined): string[] {
  if (!password) return [];
  return [
    "--cluster-node-timeout",
    String(NODE_TIMEOUT_MS),
    "--repl-diskless-sync-delay",
    "0",
    "--user",
    REPLICATION_USER,
    "on",
    `>${password}`,
    "+psync",
    "+replconf",
    "+ping",
    "--masteruser",
    REPLICATION_USER,
    "--masterauth",
    password,
  ];
}

async function startNode(port: number, dir: string, settings: Settings): Promise<Node> {
  // Keep the end of its output for error messages.
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-2000);
  };
  const args = [
    "--port",
    String(port),
    "--cluster-enabled",
    "yes",
    "--cluster-config-file",
    join(dir, `nodes-${port}.conf`),
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    dir,
    "--bind",
    HOST,
    ...replicaArgs(settings.replicationPassword),
  ];
  const child = await spawnRedis(args, keep).catch((error: unknown) => {
    throw error instanceof RedisNotInstalledError
      ? new RedisClusterToolMissingError("redis-server")
      : error;
  });
  return { port, child, output: () => tail };
}

async function createCluster(addresses: string[], settings: Settings): Promise<void> {
  const replicas = String(settings.replicas);
  try {
    await run(
      "redis-cli",
      ["--cluster", "create", ...addresses, "--cluster-replicas", replicas, "--cluster-yes"],
      { timeout: settings.timeoutMs },
    );
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `redis-cli --cluster create failed: ${(error as Error).message}\n${stdout}${stderr}`.trim(),
    );
  }
}

/** True once the node serves every slot and knows all `total` nodes. */
async function clusterIsOk(port: number, total: number): Promise<boolean> {
  const info = String(await askRedis({ host: HOST, port }, "CLUSTER", "INFO"));
  return (
    info.includes("cluster_state:ok") &&
    info.includes("cluster_slots_ok:16384") &&
    info.includes(`cluster_known_nodes:${total}`)
  );
}

/** True for a master, and for a replica once its link to its master is up. */
async function linkIsUp(port: number): Promise<boolean> {
  const info = String(await askRedis({ host: HOST, port }, "INFO", "replication"));
  return info.includes("role:master") || info.includes("master_link_status:up");
}

/** Polls `check` until it holds; fails at once if the node exits, or at the deadline. */
async function waitFor(node: Node, deadline: number, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) {
      throw new NodeExitedError(
        `redis-server on port ${node.port} exited (${node.child.signalCode ?? node.child.exitCode}):\n${node.output()}`,
      );
    }
    if (await check().catch(() => false)) return;
    if (Date.now() >= deadline) {
      throw new Error(`local Redis Cluster node ${HOST}:${node.port} not ready in time`);
    }
    await sleep(50);
  }
}

/** One line of `CLUSTER NODES`. */
interface ClusterNode {
  port: number;
  flags: string[];
  /** Slot ranges it serves, as `CLUSTER NODES` writes them: `0-5460`, `5461`. */
  slots: string[];
}

async function clusterNodes(port: number): Promise<ClusterNode[]> {
  const text = String(await askRedis({ host: HOST, port }, "CLUSTER", "NODES"));
  return text
    .trim()
    .split("\n")
    .map((line) => {
      const [, address = "", flags = "", , , , , , ...slots] = line.trim().split(" ");
      const port = Number(address.split("@")[0]?.split(":").pop());
      return {
        port,
        flags: flags.split(","),
        slots: slots.filter((slot) => !slot.startsWith("[")),
      };
    });
}

const firstSlot = (node: ClusterNode) => Number.parseInt(node.slots[0] ?? "", 10);

/** What a handle does with the running nodes: find, kill and cut off masters. */
function handle(nodes: Node[], settings: Settings, dir: string) {
  const alive = () =>
    nodes.filter(({ child }) => child.exitCode === null && child.signalCode === null);
  /** The cluster as a live node sees it. */
  const view = async () => {
    for (const { port } of alive()) {
      const seen = await clusterNodes(port).catch(() => undefined);
      if (seen) return seen;
    }
    throw new Error("no node of the local Redis Cluster answers");
  };
  const masters = async () =>
    (await view())
      .filter((node) => node.flags.includes("master") && !node.flags.includes("fail"))
      .filter((node) => node.slots.length > 0)
      .sort((a, b) => firstSlot(a) - firstSlot(b));
  /** The first slot of each master this handle killed. */
  const killed = new Map<number, number>();
  const setReplicationUser = (ports: number[], state: "on" | "off") =>
    Promise.all(
      ports.map((port) =>
        askRedis({ host: HOST, port }, "ACL", "SETUSER", REPLICATION_USER, state),
      ),
    );
  return {
    replicas: settings.replicas,
    masters: async () => (await masters()).map((node) => node.port),
    killMaster: async (which: number) => {
      const current = await masters();
      const master = current[which] ?? current.find((node) => node.port === which);
      const node = nodes.find(({ port }) => port === master?.port);
      if (!master || !node) throw new Error(`no live master ${which} in the local Redis Cluster`);
      await stopChild(node.child, 5000, "SIGKILL");
      killed.set(master.port, firstSlot(master));
      return master.port;
    },
    waitForPromotion: async (port: number, timeoutMs = 30_000) => {
      const slot = killed.get(port);
      if (slot === undefined) throw new Error(`killMaster() did not kill a master on ${port}`);
      return waitForReplacement(alive, port, slot, timeoutMs);
    },
    cutReplication: async () => {
      if (!settings.replicas) return;
      const ports = (await masters()).map((node) => node.port);
      // Off first, then drop the links: the replicas' reconnects then fail their AUTH.
      await setReplicationUser(ports, "off");
      await Promise.all(
        ports.map((port) =>
          askRedis({ host: HOST, port }, "CLIENT", "KILL", "USER", REPLICATION_USER),
        ),
      );
    },
    restoreReplication: async () => {
      if (!settings.replicas) return;
      await setReplicationUser(
        alive().map(({ port }) => port),
        "on",
      );
    },
    restartNode: async (port: number, timeoutMs = 30_000) => {
      const index = nodes.findIndex((node) => node.port === port);
      if (index < 0 || alive().some((node) => node.port === port)) {
        throw new Error(`no killed node of the local Redis Cluster on ${port}`);
      }
      const node = await startNode(port, dir, settings);
      nodes[index] = node;
      await waitFor(node, Date.now() + timeoutMs, async () => {
        const info = String(await askRedis({ host: HOST, port }, "INFO", "replication"));
        return info.includes("role:slave") && info.includes("master_link_status:up");
      });
    },
  };
}

/** Polls every live node until the killed master's slots have a new master; returns its port. */
async function waitForReplacement(
  alive: () => Node[],
  killedPort: number,
  slot: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ports = await Promise.all(
      alive().map(({ port }) => replacementSeenBy(port, killedPort, slot).catch(() => undefined)),
    );
    const [first] = ports;
    if (first && ports.every((port) => port === first)) return first;
    if (Date.now() >= deadline) {
      throw new Error(`the master killed on ${killedPort} was not replaced within ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

/** The port serving `slot` as `port` sees it, once its cluster is ok without the killed master. */
async function replacementSeenBy(
  port: number,
  killedPort: number,
  slot: number,
): Promise<number | undefined> {
  const info = String(await askRedis({ host: HOST, port }, "CLUSTER", "INFO"));
  if (!info.includes("cluster_state:ok") || !info.includes("cluster_slots_ok:16384")) return;
  const seen = await clusterNodes(port);
  const dead = seen.find((node) => node.port === killedPort);
  if (!dead?.flags.includes("fail") || dead.slots.length > 0) return;
  return seen.find((node) => node.flags.includes("master") && firstSlot(node) === slot)?.port;
}
