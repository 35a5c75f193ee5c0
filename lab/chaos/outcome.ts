import type { CheckResult, Verdict } from "../check/types.ts";
import type { NoAnswer } from "../load/records.ts";
import type { LoadResult } from "../load/run-load.ts";
import type { FaultEvent } from "./faults.ts";

/** What one app went through under one fault, in the numbers the chaos table shows. */
export interface ChaosOutcome {
  /** False when the run ended before enough turns were acknowledged for the fault to strike. */
  struck: boolean;
  verdict: Verdict;
  turnsSent: number;
  acknowledged: number;
  /** Acknowledged turns missing from the final history: must be 0. */
  lost: number;
  /** Of those, turns the signalled worker had answered (worker faults). */
  lostFromVictim: number;
  /** Turns whose answer never came (cut off by the fault): neither lost nor stored, unknown. */
  unknown: number;
  /** Of those: the connection dropped; no answer within the client's timeout; or an answer
   * saying the write was sent but not confirmed (503 store_write_uncertain). */
  unknownConnectionLost: number;
  unknownTimedOut: number;
  unknownWriteUnconfirmed: number;
  /** Turns finally refused (after every resend), so nothing may be stored. */
  failed: number;
  /** Non-2xx answers to turn attempts, by error code ("503 store_unavailable": 41). */
  refusals: Record<string, number>;
  /** The slowest non-2xx answer, in ms: a refusal must come fast, not after a hang. */
  slowestRefusalMs?: number;
  /** From the store coming back to the next acknowledged turn, in ms (Redis faults). */
  recoveryMs?: number;
  /** Whether the primary replaced the signalled worker (worker faults). */
  replaced?: boolean;
}

export function measureOutcome(
  load: LoadResult,
  check: CheckResult,
  event: FaultEvent | undefined,
  replaced: boolean | undefined,
): ChaosOutcome {
  const t = check.totals;
  const refusals: Record<string, number> = {};
  for (const answer of load.errorAnswers) {
    const label = `${answer.status} ${answer.code ?? "(no code)"}`;
    refusals[label] = (refusals[label] ?? 0) + 1;
  }
  const slowest = Math.max(...load.errorAnswers.map((a) => a.latencyMs));
  return {
    struck: event !== undefined,
    verdict: check.verdict,
    turnsSent: t.turnsSent,
    acknowledged: t.acknowledged,
    lost: t.lost,
    lostFromVictim: lostFromVictim(load, check, event?.victimPid),
    unknown: t.unknownOutcome,
    unknownConnectionLost: unknownBecause(load, "connection-lost"),
    unknownTimedOut: unknownBecause(load, "timeout"),
    unknownWriteUnconfirmed: load.turns.filter(
      (turn) =>
        turn.outcome === "unknown" && turn.noAnswer === undefined && turn.status !== undefined,
    ).length,
    failed: t.failed,
    refusals,
    slowestRefusalMs: Number.isFinite(slowest) ? slowest : undefined,
    recoveryMs: recoveryMs(load, event),
    replaced,
  };
}

function unknownBecause(load: LoadResult, why: NoAnswer): number {
  return load.turns.filter((turn) => turn.outcome === "unknown" && turn.noAnswer === why).length;
}

function lostFromVictim(load: LoadResult, check: CheckResult, victimPid?: number): number {
  if (victimPid === undefined) return 0;
  const lost = new Set(check.anomalies.filter((a) => a.kind === "lost").map((a) => a.turnId));
  return load.turns.filter((turn) => lost.has(turn.turnId) && turn.servedBy?.pid === victimPid)
    .length;
}

/** The first turn acknowledged after Redis answered again: how long until service resumed. */
function recoveryMs(load: LoadResult, event: FaultEvent | undefined): number | undefined {
  if (!event || event.restoredAt === event.startedAt) return undefined;
  const after = load.turns
    .filter((turn) => turn.outcome === "ok" && (turn.answeredAt ?? 0) >= event.restoredAt)
    .map((turn) => (turn.answeredAt as number) - event.restoredAt);
  return after.length > 0 ? Math.min(...after) : undefined;
}
