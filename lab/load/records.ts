import type { ChatMessage, ServedBy } from "../../service/contract.ts";

/**
 * What the client knows about one turn, Jepsen style:
 * - `ok`: a 2xx answer; the server acknowledged the turn, so it must be in the history.
 * - `failed`: a definite rejection (4xx, or 503 "store unavailable"); it must leave no trace.
 * - `unknown`: no answer (timeout, dropped connection) or another 5xx: it may or may not be stored.
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
}
