import { describe, expect, it } from "vitest";
import { measureOutcome } from "../../../lab/chaos/outcome.ts";
import {
  CATEGORY_TABLE,
  countTurns,
  placeTurn,
  placeTurns,
  TURN_CATEGORIES,
} from "../../../lab/chaos/turn-categories.ts";
import type { CheckResult } from "../../../lab/check/types.ts";
import type { AttemptAnswerLog, TurnRecord, TurnStream } from "../../../lab/load/records.ts";
import type { LoadResult } from "../../../lab/load/run-load.ts";

function turn(turnId: string, record: Partial<TurnRecord>): TurnRecord {
  return {
    conversationId: "c1",
    index: 0,
    turnId,
    text: "hi",
    sentAt: 0,
    outcome: "ok",
    ...record,
  };
}

/** A non-2xx answer as the load test logs it, with the load test's own outcome. */
function answer(
  turnId: string,
  status: number,
  code: string,
  outcome: AttemptAnswerLog["outcome"],
): AttemptAnswerLog {
  return { turnId, status, code, outcome, sentAt: 0, answeredAt: 5, latencyMs: 5 };
}

/** A refused send, then the resend acknowledged; a write Redis died in; a dropped connection. */
const TURNS = [
  turn("a", { status: 200, attempts: 2 }),
  turn("b", { outcome: "failed", status: 429 }),
  turn("c", { outcome: "unknown", status: 503 }),
  turn("d", { outcome: "unknown", status: 503, noAnswer: "connection-lost", attempts: 2 }),
];
const ANSWERS = [
  answer("a", 503, "store_unavailable", "failed"),
  answer("b", 429, "rate_limited", "failed"),
  answer("c", 503, "store_write_uncertain", "unknown"),
  answer("d", 503, "store_unavailable", "failed"),
];

describe("the chaos outcome categories", () => {
  it("put every answer, and every missing one, in one category (the documented table)", () => {
    const table = Object.fromEntries(CATEGORY_TABLE.map((row) => [row.label, row.category]));
    expect(table).toEqual({
      "HTTP 200": "acknowledged",
      "HTTP 503 store_unavailable": "refused",
      "HTTP 409 conversation_busy": "refused",
      "HTTP 409 turn_fenced": "refused",
      "HTTP 429 rate_limited": "refused",
      "any other HTTP 4xx": "refused",
      "HTTP 503 store_write_uncertain": "uncertain",
      "HTTP 409 turn_in_progress": "uncertain",
      "HTTP 502 model_error": "uncertain",
      "HTTP 500 or any other 5xx": "uncertain",
      "connection dropped": "noAnswer",
      "no answer in time": "noAnswer",
      "run stopped first": "noAnswer",
    });
  });

  it("place a turn by its settled outcome and the answer that decided it", () => {
    expect(placeTurns(TURNS, ANSWERS)).toEqual([
      { category: "acknowledged", cause: "HTTP 200" },
      { category: "refused", cause: "HTTP 429 rate_limited" },
      { category: "uncertain", cause: "HTTP 503 store_write_uncertain" },
      // Refused once, then its resend never came back: what became of it is unknown.
      { category: "noAnswer", cause: "connection dropped" },
    ]);
    expect(placeTurn(turn("e", { outcome: "unknown" }), [])).toEqual({
      category: "noAnswer",
      cause: "run stopped first",
    });
  });

  it("name a streamed turn whose stream broke off, and whose resume was refused, by how its connection went", () => {
    const brokeOff = (cut: TurnStream["cut"]) =>
      turn("s", {
        outcome: "unknown",
        status: 200,
        streams: [
          {
            attempt: 0,
            events: [{ id: 1, type: "delta", text: "You " }],
            cut,
            resumes: [
              {
                lastEventId: 1,
                landedOnProducer: 0,
                status: 404,
                code: "not_found",
                crossedWorkers: true,
                events: [],
              },
            ],
          },
        ],
      });
    // Its 200 is no answer to the turn: the reply never came, not because the run stopped.
    expect(placeTurn(brokeOff("connection-lost"), [])).toEqual({
      category: "noAnswer",
      cause: "connection dropped",
    });
    expect(placeTurn(brokeOff("timeout"), []).cause).toBe("no answer in time");
    expect(placeTurn(brokeOff("run-stopped"), []).cause).toBe("run stopped first");
  });

  it("count each turn once, so the categories add up to the turns sent", () => {
    const { turns, causes } = countTurns(TURNS, ANSWERS);
    expect(turns).toEqual({ acknowledged: 1, refused: 1, uncertain: 1, noAnswer: 1 });
    const sum = TURN_CATEGORIES.reduce((total, c) => total + turns[c], 0);
    expect(sum).toBe(TURNS.length);
    expect(causes.noAnswer).toEqual({ "connection dropped": 1 });
  });

  it("count refused sends apart from turns, and never an uncertain answer among them", () => {
    const load = { turns: TURNS, errorAnswers: ANSWERS } as unknown as LoadResult;
    const check = {
      verdict: "valid",
      totals: { turnsSent: TURNS.length, lost: 0 },
      anomalies: [],
    } as unknown as CheckResult;
    const o = measureOutcome(load, check, undefined, undefined);
    expect(o.refusedSends).toEqual({
      "HTTP 503 store_unavailable": 2,
      "HTTP 429 rate_limited": 1,
    });
    expect(o.turns).toEqual({ acknowledged: 1, refused: 1, uncertain: 1, noAnswer: 1 });
  });
});
