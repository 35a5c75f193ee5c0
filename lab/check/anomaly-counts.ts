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
  "over-limit": "overLimit",
  "stream-gap": "streamGap",
  "stream-duplicate": "streamDuplicate",
  "stream-mismatch": "streamMismatch",
};

/** Every count at zero, one field per anomaly kind. */
export function noAnomalies(): AnomalyCounts {
  const counts: Partial<AnomalyCounts> = {};
  for (const field of Object.values(COUNT_OF)) counts[field] = 0;
  return counts as AnomalyCounts;
}
