import type { AnomalyCounts, AnomalyKind } from "./types.ts";

/** The count field of CheckTotals / ConversationCheck that each anomaly kind feeds. */
export const COUNT_OF: Record<AnomalyKind, keyof AnomalyCounts> = {
  lost: "lost",
  stale: "stale",
  duplicated: "duplicated",
  "out-of-order": "outOfOrder",
  interleaved: "interleaved",
  "stale-context": "staleContext",
  unexpected: "unexpected",
  divergent: "divergent",
};
