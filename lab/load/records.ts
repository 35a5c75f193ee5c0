import type { ChatMessage, ServedBy, TurnResponse } from "../../service/contract.ts";

/**
 * What the client knows about one turn, Jepsen style:
 * - `ok`: a 2xx answer (a streamed turn: its done event); the server acknowledged the turn, so
 *   it must be in the history.
 * - `failed`: a definite rejection (4xx, or 503 "store unavailable"; a streamed turn's error
 *   event `turn_fenced` or `turn_interrupted`); it must leave no trace.
 * - `unknown`: no answer (timeout, dropped connection, a stream that never reached its end) or
 *   another 5xx or error event: it may or may not be stored.
 */
export type TurnOutcome = "ok" | "failed" | "unknown";

/**
 * What one attempt (send) of a turn got: as TurnOutcome, plus `conflict`, a 409
 * "turn_in_progress" answered to a retry while its first attempt still runs, which says
 * nothing about the turn's fate.
 */
export type AttemptOutcome = TurnOutcome | "conflict";

/** An attempt without an answer: no answer within the timeout, or its connection dropped. */
export type NoAnswer = "timeout" | "connection-lost";

/** One answer to one attempt of a turn, as the client saw it. */
export interface AttemptAnswerLog {
  turnId: string;
  status: number;
  /** The error code of a non-2xx JSON answer. */
  code?: string;
  outcome: AttemptOutcome;
  /** The worker that answered, when the answer names it. */
  servedBy?: ServedBy;
  /** When this attempt was sent and answered (the clock of `now()`). */
  sentAt: number;
  answeredAt: number;
  latencyMs: number;
}

export interface TurnRecord {
  conversationId: string;
  /** 0-based position of the turn in its conversation's script. */
  index: number;
  turnId: string;
  /** The user message sent. */
  text: string;
  /** High-resolution wall clock (ms since epoch, fractional) when the request was handed to a connection. */
  sentAt: number;
  /** When the answer arrived; absent for `unknown` turns that never got one. */
  answeredAt?: number;
  outcome: TurnOutcome;
  status?: number;
  servedBy?: ServedBy;
  /** From the answer: messages the agent was given, including this turn's user message. */
  messagesSeen?: number;
  /** From the answer: length of the whole history the turn was based on (before its messages). */
  historyLength?: number;
  reply?: string;
  latencyMs?: number;
  /** How many times the turn was sent (more than 1 with --retry-rate). */
  attempts?: number;
  /** Why an attempt got no answer: the client gave up waiting, or the connection dropped. */
  noAnswer?: NoAnswer;
  /** With --stream: each attempt answered as a stream of events, in the order they were sent. */
  streams?: TurnStream[];
}

/** The worker a response came from, by its `X-Worker-Id` / `X-Worker-Pid` headers. */
export type WorkerHeaders = Pick<ServedBy, "workerId" | "pid">;

/** One server-sent event as the client received it. */
export interface StreamEventLog {
  /** Its `id:` field; 0 when it had none (or not a whole number). */
  id: number;
  /** Its `event:` field: delta, done or error (anything else is recorded as sent). */
  type: string;
  /** A delta's text. */
  text?: string;
}

/**
 * Why a response ended before its stream's done or error event: the client dropped it on
 * purpose (--disconnect-rate), the connection was lost, no event came within the timeout, the
 * server ended the response, or the run stopped first.
 */
export type StreamCut = "dropped" | "connection-lost" | "timeout" | "ended-early" | "run-stopped";

/** One resume of a cut stream: `GET .../turns/:turnId/stream` with `Last-Event-ID`, on a fresh connection. */
export interface StreamResume {
  /** The `Last-Event-ID` sent: the id of the last event received before. */
  lastEventId: number;
  /** Fresh connections opened first and aborted because they reached the producing worker. */
  landedOnProducer: number;
  /** Fresh connections opened first that got no answer (a worker gone), then tried again. */
  unanswered?: number;
  /** Its status; absent when no answer came (connection refused or lost before the headers). */
  status?: number;
  /** The error code of a non-200 JSON answer (the broken app's 404 `not_found`). */
  code?: string;
  /** The worker that answered, by its headers. */
  worker?: WorkerHeaders;
  /** Whether that worker is another than the one that produced the turn. */
  crossedWorkers: boolean;
  events: StreamEventLog[];
  /** Why it ended before done or error; absent when it reached one. */
  cut?: StreamCut;
}

/** One attempt of a turn answered as a stream (`Accept: text/event-stream`). */
export interface TurnStream {
  attempt: number;
  /** The worker that produced the stream (the first response's headers). */
  producer?: ServedBy;
  /** The events received over the first response, in arrival order. */
  events: StreamEventLog[];
  /** Why the first response ended before done or error; absent when it reached one. */
  cut?: StreamCut;
  /** The client dropped the first response on purpose after this many deltas. */
  droppedAfter?: number;
  resumes: StreamResume[];
  /** done's data, as received (the answer a non-streamed 200 returns). */
  done?: Partial<TurnResponse>;
  /** An error event's code and message. */
  error?: { code?: string; message?: string };
  /**
   * A stream that never reached its end is looked up in the conversation's history, as a page
   * reloading it would: found, later turns can be ordered after it, and the conversation goes on.
   */
  lookedUp?: { reads: number; found: boolean };
}

/** One read of a conversation's history after the load, ideally served by several workers. */
export interface FinalRead {
  conversationId: string;
  ok: boolean;
  status?: number;
  servedBy?: ServedBy;
  messages: ChatMessage[];
}

/** Everything the checker needs from one load run. */
export interface RunRecord {
  turns: TurnRecord[];
  reads: FinalRead[];
  /** Worker processes the app was started with; 1 means a single process (nothing to split). */
  workersExpected: number;
  /** The user's turn limit the app was started with (RATE_LIMIT_TURNS_PER_MINUTE), if checked. */
  turnLimitPerMinute?: number;
  /** Every turn was asked for as a stream (--stream). */
  stream?: boolean;
  /** Share of streamed turns the client dropped and resumed elsewhere (--disconnect-rate). */
  disconnectRate?: number;
}
