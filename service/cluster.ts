import cluster, { type Worker } from "node:cluster";
import { setTimeout as sleep } from "node:timers/promises";
import { logger } from "./logger.ts";
import { serveClusterMetrics } from "./metrics/cluster-metrics.ts";

export interface ClusterOptions {
  /** How many worker processes to keep running. */
  workers: number;
  /** Starts this worker's server; resolves with a function that stops it gracefully. */
  startWorker: () => Promise<() => Promise<void>>;
  /** How long the primary waits for draining workers before killing them. */
  shutdownTimeoutMs?: number;
}

/**
 * Runs the same script as a `node:cluster` primary and its workers. The primary keeps
 * `workers` processes alive (a worker that dies is replaced) and, on SIGINT/SIGTERM,
 * asks each to drain: stop accepting, finish in-flight requests, exit.
 */
export function runCluster(options: ClusterOptions): void {
  if (cluster.isPrimary) runPrimary(options);
  else void runWorker(options);
}

function runPrimary({ workers, shutdownTimeoutMs = 10_000 }: ClusterOptions): void {
  let shuttingDown = false;
  const log = logger.child({ role: "primary" });
  // A worker's /metrics asks here for the sum over every worker.
  serveClusterMetrics();
  log.info(
    { event: "cluster_starting", workers },
    `starting ${workers} ${workers === 1 ? "worker" : "workers"}`,
  );

  const fork = () => cluster.fork();
  for (let i = 0; i < workers; i++) fork();

  let listening = 0;
  cluster.on("listening", (worker: Worker, address) => {
    log.info(
      {
        event: "worker_listening",
        workerId: worker.id,
        pid: worker.process.pid,
        port: address.port,
      },
      `worker ${worker.id} (pid ${worker.process.pid}) listening on port ${address.port}`,
    );
    listening++;
    if (listening === workers) {
      log.info({ event: "cluster_ready", port: address.port, workers }, "all workers listening");
      // Tells a parent process (the demo, the tests) that the app is ready, if there is one.
      process.send?.({ type: "cluster_ready", port: address.port });
    }
  });

  cluster.on("exit", (worker, code, signal) => {
    if (shuttingDown) return;
    log.warn(
      { event: "worker_replaced", workerId: worker.id, pid: worker.process.pid, code, signal },
      `worker ${worker.id} died (${signal ?? code}); starting a replacement`,
    );
    fork();
  });

  const shutdown = async (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ event: "cluster_stopping", signal }, "draining workers");
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w);
    const exited = alive.map((w) => new Promise((resolve) => w.once("exit", resolve)));
    for (const w of alive) w.process.kill("SIGTERM");
    const timedOut = await Promise.race([
      Promise.all(exited).then(() => false),
      sleep(shutdownTimeoutMs).then(() => true),
    ]);
    if (timedOut) for (const w of alive) w.process.kill("SIGKILL");
    log.info({ event: "cluster_stopped" }, "all workers stopped");
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

async function runWorker({ startWorker }: ClusterOptions): Promise<void> {
  const stop = await startWorker();
  let stopping = false;
  const drain = async () => {
    if (stopping) return;
    stopping = true;
    await stop();
    process.exit(0);
  };
  process.on("SIGTERM", drain);
  // Ctrl+C reaches the whole process group; the primary coordinates, workers just drain.
  process.on("SIGINT", drain);
  // If the primary dies, do not linger as an orphan.
  process.on("disconnect", drain);
}
