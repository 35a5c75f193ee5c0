import type { CheckResult, Verdict } from "../check/types.ts";
import type { LoadResult } from "../load/run-load.ts";
import type { FaultEvent } from "./faults.ts";
import {
  countBy,
  measureStreamCuts,
  type StreamCuts,
  type StreamErrorAnswers,
} from "./stream-cuts.ts";
import { answerLabel, categoryOfAnswer, countTurns, type TurnCategory } from "./turn-categories.ts";

/** What one app went through under one fault, in the numbers the chaos table shows. */
export interface ChaosOutcome {
  /** False when the run ended before enough turns were acknowledged for the fault to strike. */
  struck: boolean;
  verdict: Verdict;
  turnsSent: number;
  /** Every turn sent in exactly one category (see CATEGORY_TABLE): they add up to turnsSent. */
  turns: Record<TurnCategory, number>;
  /** Each category's turns by what put them there ("HTTP 503 store_write_uncertain": 1). */
  causes: Record<TurnCategory, Record<string, number>>;
  /** Acknowledged turns missing from the final history: 0 for the fixed app. */
  lost: number;
  /** Of those, turns the signalled worker had answered (worker faults). */
  lostFromVictim: number;
  /**
   * Sends (not turns) definitely refused, by answer: a turn refused for now is resent with
   * the same turnId, so it can be refused many times and still end acknowledged.
   */
  refusedSends: Record<string, number>;
  /**
   * Sends answered "may or may not be stored" (e.g. a write no replica confirmed), by answer:
   * the client resends those with the same turnId too, and the turnId settles it.
   */
  uncertainSends: Record<string, number>;
  /** The slowest refused send, in ms: a refusal must come fast, not after a hang. */
  slowestRefusalMs?: number;
  /** From the store coming back to the next acknowledged turn, in ms (Redis faults). */
  recoveryMs?: number;
  /** Whether the primary replaced the signalled worker (worker faults). */
  replaced?: boolean;
  /** With a streamed load and a worker killed: the replies it was streaming, and their fate. */
  streamCuts?: StreamCuts;
}

export function measureOutcome(
  load: LoadResult,
  check: CheckResult,
  event: FaultEvent | undefined,
  replaced: boolean | undefined,
  streamErrors: StreamErrorAnswers = [],
): ChaosOutcome {
  const refused = load.errorAnswers.filter((a) => categoryOfAnswer(a) === "refused");
  const slowest = Math.max(...refused.map((a) => a.latencyMs));
  return {
    struck: event !== undefined,
    verdict: check.verdict,
    turnsSent: check.totals.turnsSent,
    ...countTurns(load.turns, load.errorAnswers),
    lost: check.totals.lost,
    lostFromVictim: lostFromVictim(load, check, event?.victimPid),
    refusedSends: countBy(refused.map(answerLabel)),
    uncertainSends: countBy(
      load.errorAnswers.filter((a) => categoryOfAnswer(a) === "uncertain").map(answerLabel),
    ),
    slowestRefusalMs: Number.isFinite(slowest) ? slowest : undefined,
    recoveryMs: recoveryMs(load, event),
    replaced,
    streamCuts: load.stream
      ? measureStreamCuts(load.turns, load.reads, check, event, streamErrors)
      : undefined,
  };
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
