import { type AnswerBody, attemptAnswerLog } from "../load/answers.ts";
import type {
  AttemptAnswerLog,
  AttemptOutcome,
  NoAnswer,
  TurnRecord,
  TurnStream,
} from "../load/records.ts";

/**
 * What became of each turn of a chaos run: exactly one category per turn, so they add up
 * to the turns sent. The table, the legend and the JSON (`--json`) all use these names.
 */
export const TURN_CATEGORIES = ["acknowledged", "refused", "uncertain", "noAnswer"] as const;
export type TurnCategory = (typeof TURN_CATEGORIES)[number];

export const CATEGORY_LABEL: Record<TurnCategory, string> = {
  acknowledged: "acknowledged",
  refused: "refused",
  uncertain: "uncertain",
  noAnswer: "no answer",
};

/** What each category tells about the turn, as the legend says it. */
export const CATEGORY_MEANING: Record<TurnCategory, string> = {
  acknowledged: "answered with success, so it must be in the final history",
  refused: "a definite refusal; nothing was stored, so it must leave no trace",
  uncertain: "answered, but the answer says it may or may not be stored",
  noAnswer: "the answer never came, so it may or may not be stored",
};

/**
 * The load test's reading of one answer (lab/load/answers.ts) as a category. Reused rather
 * than redone, so the chaos table can never disagree with the load test and the checker.
 */
const CATEGORY_OF_OUTCOME: Record<AttemptOutcome, TurnCategory> = {
  ok: "acknowledged",
  failed: "refused",
  unknown: "uncertain",
  // "That turnId is still running elsewhere": it may yet be stored.
  conflict: "uncertain",
};

export function categoryOfAnswer(answer: Pick<AttemptAnswerLog, "outcome">): TurnCategory {
  return CATEGORY_OF_OUTCOME[answer.outcome];
}

/** "HTTP 503 store_unavailable", "HTTP 500". */
export function answerLabel(answer: Pick<AttemptAnswerLog, "status" | "code">): string {
  return `HTTP ${answer.status}${answer.code ? ` ${answer.code}` : ""}`;
}

/** Why a turn has no answer, as the table names it. */
export const NO_ANSWER_LABEL: Record<NoAnswer | "run-stopped", string> = {
  "connection-lost": "connection dropped",
  timeout: "no answer in time",
  // Still on the wire when the run hit its time limit.
  "run-stopped": "run stopped first",
};

export interface CategoryRow {
  /** An answer ("HTTP 503 store_unavailable") or a missing one ("connection dropped"). */
  label: string;
  category: TurnCategory;
}

/** An answer the service gives, its category as the load test classifies it. */
function answered(status: number, code?: string, label?: string): CategoryRow {
  const body = (code ? { error: { code } } : undefined) as AnswerBody;
  const answer = attemptAnswerLog("", status, body, 0, 0);
  return { label: label ?? answerLabel(answer), category: categoryOfAnswer(answer) };
}

/**
 * The one table of which answer (or missing answer) puts a turn in which category; the
 * legend is printed from it and the JSON carries it. Per the service's contract a refusal
 * stored nothing; 502 model_error stays uncertain, as the load test and checker count it.
 */
export const CATEGORY_TABLE: readonly CategoryRow[] = [
  answered(200),
  answered(503, "store_unavailable"),
  answered(409, "conversation_busy"),
  answered(409, "turn_fenced"),
  answered(429, "rate_limited"),
  answered(400, "bad_request", "any other HTTP 4xx"),
  answered(503, "store_write_uncertain"),
  answered(409, "turn_in_progress"),
  answered(502, "model_error"),
  answered(500, "internal_error", "HTTP 500 or any other 5xx"),
  ...Object.values(NO_ANSWER_LABEL).map((label) => ({ label, category: "noAnswer" as const })),
];

/** Where one turn ended up, and the answer (or missing answer) that put it there. */
export interface TurnPlace {
  category: TurnCategory;
  cause: string;
}

/**
 * A turn's place from its record and the non-2xx answers to its sends. Acknowledged and
 * refused follow the load test's settled outcome; an unknown one is uncertain if an answer
 * said so (that tells more than silence), else it got no answer.
 */
export function placeTurn(turn: TurnRecord, errorAnswers: readonly AttemptAnswerLog[]): TurnPlace {
  if (turn.outcome === "ok") return { category: "acknowledged", cause: `HTTP ${turn.status}` };
  const wanted: TurnCategory = turn.outcome === "failed" ? "refused" : "uncertain";
  const last = errorAnswers.filter((a) => categoryOfAnswer(a) === wanted).at(-1);
  if (last) return { category: wanted, cause: answerLabel(last) };
  const why = turn.noAnswer ?? brokenOff(turn.streams?.at(-1)) ?? "run-stopped";
  return { category: "noAnswer", cause: NO_ANSWER_LABEL[why] };
}

/**
 * A streamed turn answered 200 whose stream broke off and never reached its end (its resume
 * refused, say): the answer never came, for the reason its connection gave.
 */
function brokenOff(stream: TurnStream | undefined): NoAnswer | "run-stopped" | undefined {
  if (stream?.cut === undefined) return undefined;
  if (stream.cut === "timeout" || stream.cut === "run-stopped") return stream.cut;
  // Lost, ended early, or dropped by the client: the connection went before the end.
  return "connection-lost";
}

/** Each turn's place, in the order of `turns`. */
export function placeTurns(
  turns: readonly TurnRecord[],
  errorAnswers: readonly AttemptAnswerLog[],
): TurnPlace[] {
  const answersOf = answersByTurn(errorAnswers);
  return turns.map((turn) => placeTurn(turn, answersOf.get(turn.turnId) ?? []));
}

/** Turns per category, and per category by cause; every turn counted once. */
export interface TurnCounts {
  turns: Record<TurnCategory, number>;
  causes: Record<TurnCategory, Record<string, number>>;
}

export function countTurns(
  turns: readonly TurnRecord[],
  errorAnswers: readonly AttemptAnswerLog[],
): TurnCounts {
  const counts = emptyCounts();
  for (const { category, cause } of placeTurns(turns, errorAnswers)) {
    counts.turns[category]++;
    counts.causes[category][cause] = (counts.causes[category][cause] ?? 0) + 1;
  }
  return counts;
}

// Map.groupBy needs Node 21.
function answersByTurn(answers: readonly AttemptAnswerLog[]): Map<string, AttemptAnswerLog[]> {
  const byTurn = new Map<string, AttemptAnswerLog[]>();
  for (const answer of answers) {
    const list = byTurn.get(answer.turnId);
    if (list) list.push(answer);
    else byTurn.set(answer.turnId, [answer]);
  }
  return byTurn;
}

function emptyCounts(): TurnCounts {
  const turns = {} as Record<TurnCategory, number>;
  const causes = {} as Record<TurnCategory, Record<string, number>>;
  for (const category of TURN_CATEGORIES) {
    turns[category] = 0;
    causes[category] = {};
  }
  return { turns, causes };
}
