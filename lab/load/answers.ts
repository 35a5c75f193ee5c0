import type { TurnResponse } from "../../service/contract.ts";
import type { AttemptAnswerLog, AttemptOutcome, TurnStream } from "./records.ts";
import type { AttemptAnswer } from "./scheduler.ts";

/** An answer's JSON body as the load test reads it (a turn's answer, an error, a read). */
export type AnswerBody = Partial<TurnResponse> | undefined;

/** The body parsed as JSON; undefined when it is not JSON. */
export function parseAnswerBody(body: string): AnswerBody {
  try {
    return JSON.parse(body) as AnswerBody;
  } catch {
    return undefined;
  }
}

/** What the client logs about one answer to one attempt of a turn. */
export function attemptAnswerLog(
  turnId: string,
  status: number,
  body: AnswerBody,
  sentAt: number,
  answeredAt: number,
): AttemptAnswerLog {
  return {
    turnId,
    status,
    code: errorCodeOf(body),
    outcome: outcomeOf(status, body),
    servedBy: body?.servedBy,
    sentAt,
    answeredAt,
    latencyMs: answeredAt - sentAt,
  };
}

/**
 * What the client logs about one streamed attempt: answered 200 once the stream opened, then
 * settled by its end: done acknowledges the turn, an error event says by its code, and a stream
 * that never reached either is unknown (no answer).
 */
export function streamAnswerLog(
  turnId: string,
  stream: TurnStream,
  sentAt: number,
  answeredAt: number,
): AttemptAnswerLog {
  const code = stream.error?.code;
  return {
    turnId,
    status: 200,
    code,
    outcome: stream.done ? "ok" : stream.error ? errorEventOutcome(code) : "unknown",
    servedBy: stream.done?.servedBy,
    sentAt,
    answeredAt,
    latencyMs: answeredAt - sentAt,
  };
}

/** What a stream's error event says about its turn, by its code (the stream had answered 200). */
export function errorEventOutcome(code: string | undefined): AttemptOutcome {
  // Nothing was stored: the turn lost its lease, or its producer died and the lease lapsed.
  if (code === "turn_fenced" || code === "turn_interrupted") return "failed";
  // store_write_uncertain and model_error may or may not be stored; so may store_unavailable
  // here, which also ends a stream that could not be read to its end after the turn was stored.
  return "unknown";
}

/**
 * What the scheduler learns about the turn from that answer: its latency counts from the
 * turn's first send (`turnSentAt`), and only a 200 that acknowledged the turn (a streamed one:
 * its done event) tells who served it and what it saw.
 */
export function turnAnswer(
  answer: AttemptAnswerLog,
  body: AnswerBody,
  turnSentAt: number,
): AttemptAnswer {
  const ok = answer.status === 200 && answer.outcome === "ok";
  return {
    outcome: answer.outcome,
    status: answer.status,
    code: answer.code,
    answeredAt: answer.answeredAt,
    latencyMs: answer.answeredAt - turnSentAt,
    servedBy: ok ? body?.servedBy : undefined,
    messagesSeen: ok ? body?.messagesSeen : undefined,
    historyLength: ok ? body?.historyLength : undefined,
    reply: ok ? body?.reply : undefined,
  };
}

function errorCodeOf(body: unknown): string | undefined {
  return (body as { error?: { code?: string } } | undefined)?.error?.code;
}

function outcomeOf(status: number, body: unknown): AttemptOutcome {
  if (status >= 200 && status < 300) return "ok";
  const code = errorCodeOf(body);
  // A retry meeting its own first attempt still running: says nothing about the turn.
  if (status === 409 && code === "turn_in_progress") return "conflict";
  if (status >= 400 && status < 500) return "failed";
  // By contract a 503 "store_unavailable" stored nothing; "store_write_uncertain" may have.
  if (status === 503 && code === "store_unavailable") return "failed";
  return "unknown";
}
