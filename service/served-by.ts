import cluster from "node:cluster";
import { hostname } from "node:os";
import type { ServedBy } from "./contract.ts";

/**
 * This process's identity; worker id 0 means "not a cluster worker" (an in-process test
 * app). `hostLabel` (HOST_LABEL) names the host when several app clusters stand for
 * several machines.
 */
export function currentServedBy(hostLabel?: string): ServedBy {
  return {
    workerId: cluster.worker?.id ?? 0,
    pid: process.pid,
    hostname: hostLabel ?? hostname(),
  };
}
