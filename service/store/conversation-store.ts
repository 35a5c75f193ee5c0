import type { ChatMessage } from "../contract.ts";

/** The tail of a conversation and how long the whole conversation is. */
export interface RecentHistory {
  messages: ChatMessage[];
  /** Messages in the whole history: the version a fenced append expects. */
  length: number;
}

/**
 * A streamed turn's done event, written in the same step as the turn's stored state (its
 * messages, its checkpoint, its session items): the stored reply and the stream cannot disagree.
 */
export interface StreamDone {
  /** The turn's stream (streamKeyOf), in its conversation's hash slot. */
  key: string;
  /** The event's id: one after the stream's last delta. */
  id: number;
  /** The turn's answer as JSON: what the same turn answers without a stream. */
  data: string;
  /** How long the stream stays readable after it, in seconds. */
  ttlSeconds: number;
}

/**
 * What a fenced append must still find true to store anything: the turn's lease is still
 * the one it took, and the history still has the length the turn read.
 */
export interface Fence {
  /** The lease's fencing token (see TurnGate). */
  token: string;
  turnId: string;
  /** The history's length when the turn took its lease: the version it read. */
  expectedLength: number;
  /** A streamed turn's done event, appended to its stream in the same step. */
  done?: StreamDone;
}

/**
 * Shared storage for conversation histories: the only place conversation state lives in
 * the fixed apps. Every method that touches data rejects with `StoreUnavailableError` when
 * the backend certainly did not act, or `StoreWriteUncertainError` when a write's outcome
 * is unknown, so the caller answers 503 instead of losing data silently.
 */
export interface ConversationStore {
  /** Short name for logs and `/healthz`, e.g. "redis". */
  readonly backend: string;

  /** The whole history under `key`, oldest first; `[]` when the conversation is unknown. */
  load(key: string): Promise<ChatMessage[]>;

  /**
   * The `recent` most recent messages (oldest first) and the length of the whole history,
   * read together: what a turn needs when the agent gets a bounded context window.
   */
  loadRecent(key: string, recent: number): Promise<RecentHistory>;

  /**
   * The messages at positions [start, start + count) of the history (0 is the oldest), oldest
   * first, in one bounded read; fewer (or none) where the history is shorter. `start` is at
   * least 0; a `count` of 0 or less reads nothing. Histories only grow at the end, so a
   * position names the same message for as long as the conversation lives.
   */
  loadRange(key: string, start: number, count: number): Promise<ChatMessage[]>;

  /**
   * Appends `messages` after the existing ones as one atomic step (all or none) and
   * refreshes the conversation's idle expiry. Resolves with the history's new length.
   * With a `fence`, the append also records the turn as completed and ends its lease, and
   * happens only if the fence still holds; otherwise it rejects with `TurnFencedError` and
   * stores nothing. A store that cannot fence rejects any fenced append.
   */
  append(key: string, messages: readonly ChatMessage[], fence?: Fence): Promise<number>;

  /**
   * Replaces the whole history with `messages` (the "save everything back" pattern).
   * Under overlapping turns the last writer wins: see the naive-save scenario.
   */
  replace(key: string, messages: readonly ChatMessage[]): Promise<number>;

  /** True when the backend answers now. Never throws. */
  ping(): Promise<boolean>;

  /** Closes connections. */
  close(): Promise<void>;
}
