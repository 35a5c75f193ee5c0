import type { AnomalyCounts, CheckResult } from "../../../lab/check/types.ts";
import type { TurnRecord } from "../../../lab/load/records.ts";
import type { ChatMessage, Role, ServedBy } from "../../../service/contract.ts";

/** Two workers of one host, for hand-made runs. */
export const W0: ServedBy = { workerId: 0, pid: 100, hostname: "host" };
export const W1: ServedBy = { workerId: 1, pid: 101, hostname: "host" };

/** Every anomaly count at zero: tests spread it and set the counts they expect. */
export const NO_ANOMALIES: AnomalyCounts = {
  lost: 0,
  stale: 0,
  duplicated: 0,
  outOfOrder: 0,
  interleaved: 0,
  staleContext: 0,
  unexpected: 0,
  divergent: 0,
  overLimit: 0,
  streamGap: 0,
  streamDuplicate: 0,
  streamMismatch: 0,
};

/** The message a turn stores for `role`; the user's is the turn's text. */
export function message(record: TurnRecord, role: Role): ChatMessage {
  return {
    role,
    content: role === "user" ? record.text : `answer to ${record.text}`,
    turnId: record.turnId,
    servedBy: record.servedBy ?? W0,
    at: new Date(record.sentAt).toISOString(),
  };
}

/** Just the anomaly counts of a result, to compare with NO_ANOMALIES-based expectations. */
export function counts(result: CheckResult): AnomalyCounts {
  const picked = { ...NO_ANOMALIES };
  for (const field of Object.keys(NO_ANOMALIES) as (keyof AnomalyCounts)[]) {
    picked[field] = result.totals[field];
  }
  return picked;
}
