import cluster from "node:cluster";
import { hostname } from "node:os";
import type { ServedBy } from "./contract.ts";

/**
 * This process's identity; worker id 0 means "not a cluster worker" (an in-process test
 * app). HOST_LABEL names the host when several app clusters stand for several machines.
 */
export function currentServedBy(): ServedBy {
  return {
    workerId: cluster.worker?.id ?? 0,
    pid: process.pid,
    hostname: process.env.HOST_LABEL ?? hostname(),
  };
}
