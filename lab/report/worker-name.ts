import type { ServedBy } from "../../service/contract.ts";

/** A worker as the reports name it: its id, and the host it runs on. */
export type WorkerRef = Pick<ServedBy, "workerId"> & Partial<Pick<ServedBy, "hostname">>;

/** Several app clusters stand for several machines named "host-N": N, or 0 on a single host. */
function hostNumber(worker: WorkerRef): number {
  return Number(worker.hostname?.match(/^host-(\d+)$/)?.[1] ?? 0);
}

/** "w2", or "h2/w1" when several hosts run: worker 1 of host 1 and of host 2 differ. */
export function workerName(worker: WorkerRef): string {
  const host = hostNumber(worker);
  return host ? `h${host}/w${worker.workerId}` : `w${worker.workerId}`;
}

/** "worker 2", or "host 2 worker 1" when several hosts run. */
export function workerLongName(worker: WorkerRef): string {
  const host = hostNumber(worker);
  return host ? `host ${host} worker ${worker.workerId}` : `worker ${worker.workerId}`;
}

/** Which colour of a palette the worker gets: the same worker id on another host gets another. */
export function workerColourIndex(worker: WorkerRef): number {
  return worker.workerId + 4 * hostNumber(worker);
}

/** "hosts x workers" on several hosts, else "workers": how a run's cluster was shaped. */
export function clusterShape(workers: number, hosts: number): string {
  const perHost = workers / Math.max(1, hosts);
  const counted = (n: number) => `${n} ${n === 1 ? "worker" : "workers"}`;
  return hosts > 1 ? `${hosts} hosts x ${counted(perHost)}` : counted(workers);
}
