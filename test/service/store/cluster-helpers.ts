import type { Cluster } from "ioredis";

/** The slot of a key, as the cluster itself computes it. */
export async function keySlot(cluster: Cluster, key: string): Promise<number> {
  return Number(await cluster.cluster("KEYSLOT", key));
}

/** The port of the master that serves `slot`, from CLUSTER SLOTS. */
export async function masterPortOf(cluster: Cluster, slot: number): Promise<number> {
  const ranges = await cluster.cluster("SLOTS");
  const master = ranges.find(([start, end]) => start <= slot && slot <= end)?.[2];
  if (!master) throw new Error(`no master serves slot ${slot}`);
  return Number(master[1]);
}
