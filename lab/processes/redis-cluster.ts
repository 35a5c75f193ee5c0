import { type ChildProcess, execFile } from "node:child_process";
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

export interface RedisClusterHandle {
  /** The nodes as REDIS_CLUSTER_NODES expects them: `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`. */
  nodes: string;
  ports: number[];
  /** The temp dir holding the nodes' cluster config files; removed by `stop()`. */
  dir: string;
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

/**
 * Starts a throwaway three-master Redis Cluster on 127.0.0.1 (free ports, no persistence,
 * one temp dir, no replicas), joins it with `redis-cli --cluster create`, and resolves once
 * every node reports `cluster_state:ok`.
 */
export async function startLocalRedisCluster(timeoutMs = 30_000): Promise<RedisClusterHandle> {
  await requireRedisCli();
  // A port that was free a moment ago can be taken before a node binds it: try other ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(timeoutMs);
    } catch (error) {
      if (!(error instanceof NodeExitedError) || attempt === 3) throw error;
    }
  }
}

class NodeExitedError extends Error {}

async function startOnce(timeoutMs: number): Promise<RedisClusterHandle> {
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
    const deadline = Date.now() + timeoutMs;
    const ports = await clusterPorts(MASTERS);
    for (const port of ports) nodes.push(await startNode(port, dir));
    for (const node of nodes)
      await waitFor(
        node,
        deadline,
        async () => (await askRedis({ host: HOST, port: node.port }, "PING")) === "PONG",
      );
    const addresses = ports.map((port) => `${HOST}:${port}`);
    await createCluster(addresses, timeoutMs);
    for (const node of nodes) await waitFor(node, deadline, () => clusterIsOk(node.port));
    return { nodes: addresses.join(","), ports, dir, stop };
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

async function startNode(port: number, dir: string): Promise<Node> {
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
  ];
  const child = await spawnRedis(args, keep).catch((error: unknown) => {
    throw error instanceof RedisNotInstalledError
      ? new RedisClusterToolMissingError("redis-server")
      : error;
  });
  return { port, child, output: () => tail };
}

async function createCluster(addresses: string[], timeoutMs: number): Promise<void> {
  try {
    await run(
      "redis-cli",
      ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: timeoutMs },
    );
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(
      `redis-cli --cluster create failed: ${(error as Error).message}\n${stdout}${stderr}`.trim(),
    );
  }
}

/** True once the node serves every slot and knows every master. */
async function clusterIsOk(port: number): Promise<boolean> {
  const info = String(await askRedis({ host: HOST, port }, "CLUSTER", "INFO"));
  return (
    info.includes("cluster_state:ok") &&
    info.includes("cluster_slots_ok:16384") &&
    info.includes(`cluster_known_nodes:${MASTERS}`)
  );
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
