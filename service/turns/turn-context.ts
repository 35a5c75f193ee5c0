import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The lease a turn runs under, carried implicitly from the turn gate to the store so the
 * chat services stay unchanged: a store that sees it only writes if the lease is still
 * this turn's and the history is the one the turn read.
 */
export interface TurnFence {
  key: string;
  turnId: string;
  token: string;
  /** Length of the history as this turn loaded it: the version its append expects. */
  loadedLength?: number;
  /** The recent messages (raw JSON) and length the lease came with, for the turn's first load. */
  prefetched?: { recent: number; length: number; raw: string[] };
  /** Set once the fenced append stored the turn and released the lease. */
  released?: boolean;
}

export const turnFence = new AsyncLocalStorage<TurnFence>();
