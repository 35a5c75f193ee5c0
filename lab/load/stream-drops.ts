import { mulberry32 } from "./seeded-random.ts";

/** Which streamed turns the client drops mid-stream, and after how many deltas. */
export interface DisconnectOptions {
  /** Share of the run's turns dropped (0..1). */
  rate: number;
  /** Deltas received before the client drops the connection. */
  afterDeltas: number;
}

/** A turn's number in the run: conversation 1..S, index 0..T-1 -> 0..S*T-1. */
export function turnNumber(conversation: number, index: number, turns: number): number {
  return (conversation - 1) * turns + index;
}

/**
 * The turns (by turnNumber) the client drops: exactly round(rate x S x T) of them, whichever
 * the seed picks. A fixed count, not a coin per turn, so a lesson's counts are the same on
 * every run; chosen up front, so they do not depend on which connection sends what when.
 */
export function droppedTurns(
  seed: number,
  conversations: number,
  turns: number,
  rate: number,
): Set<number> {
  const all = Array.from({ length: conversations * turns }, (_, n) => n);
  // Its own stream of the seed, so adding drops changes none of the retry choices.
  const random = mulberry32((seed ^ 0x9e3779b9) >>> 0);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [all[i], all[j]] = [all[j] as number, all[i] as number];
  }
  return new Set(all.slice(0, Math.round(rate * all.length)));
}
