import cluster from "node:cluster";
import { hostname } from "node:os";
import type { ServedBy } from "./types.ts";

/** This process's identity; worker id 0 means "not a cluster worker" (e.g. an in-process test app). */
export function currentServedBy(): ServedBy {
  return { workerId: cluster.worker?.id ?? 0, pid: process.pid, hostname: hostname() };
}
