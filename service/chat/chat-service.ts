import type { AppConfig } from "../config.ts";
import type { ChatMessage, ServedBy } from "../contract.ts";
import type { ConversationStore } from "../store/conversation-store.ts";

/** Which conversation a request is about, as the HTTP layer established it. */
export interface ConversationRef {
  /** The canonical state key, derived from the verified identity and the conversation id. */
  key: string;
  conversationId: string;
  /** The client's `X-Session` header, if it sent one. Not verified: never a key (see unstable-key). */
  sessionHeader?: string;
}

/** One user turn, already authenticated and validated by the HTTP layer. */
export interface Turn extends ConversationRef {
  turnId: string;
  text: string;
  servedBy: ServedBy;
  /**
   * A streamed turn (the client asked for `text/event-stream`): where each piece of the reply
   * goes as the model writes it. Hand it to the agent (`generateReply(messages, turn.onDelta)`);
   * the pieces must join to the reply the turn returns.
   */
  onDelta?: (text: string) => void;
}

/** What a turn did, for the response and for the per-turn log line. */
export interface TurnResult {
  reply: string;
  /** Messages handed to the agent, including this turn's user message. */
  messagesSeen: number;
  /** Messages in the conversation before and after the turn, as this worker saw them. */
  before: number;
  after: number;
  /** The key the state was actually read and written under, when not the canonical one. */
  key?: string;
}

/** Which page of a conversation's history to read. */
export interface HistoryPageRequest {
  /** At most this many messages; at least 1. */
  limit: number;
  /** A previous page's cursor: this page ends just before that position. Absent: the newest page. */
  before?: number;
}

/** Consecutive messages of a history, oldest first. */
export interface HistoryPage {
  messages: ChatMessage[];
  /**
   * The position (0 is the oldest) of the page's first message in the whole history: the
   * cursor of the page before this one. null when this page starts the history.
   */
  before: number | null;
}

/** What every chat service (broken or fixed, any scenario) offers the HTTP layer. */
export interface ChatService {
  /** Where conversation state lives: "memory", "redis", ... Logged on every turn. */
  readonly backend: string;
  /**
   * Runs one turn: give the agent the history plus the new message, record both messages.
   * `store`, when the app runs a turn gate, is the service's own store as this turn's lease
   * sees it (reads from the lease, a fenced append); a service that keeps its state in a
   * store reads and writes the turn's conversation through it.
   */
  handleTurn(turn: Turn, store?: ConversationStore): Promise<TurnResult>;
  /** The conversation's messages, oldest first; [] for an unknown conversation. */
  history(ref: ConversationRef): Promise<ChatMessage[]>;
  /**
   * One page of the history, read without loading the rest of it. Optional: without it the
   * HTTP layer cuts the page from `history()` (see historyPageOf), with the same answer.
   */
  historyPage?(ref: ConversationRef, page: HistoryPageRequest): Promise<HistoryPage>;
  /** Whether the state backend answers right now. Never throws. */
  storeReachable(): Promise<boolean>;
  /** Releases connections; called on graceful shutdown. */
  close(): Promise<void>;
}

/** What a chat service may use; created once per worker. */
export interface ServiceDeps {
  config: AppConfig;
  /** The worker's shared Redis-backed store. */
  redisStore(): ConversationStore;
}

export function userMessage(turn: Turn): ChatMessage {
  return message("user", turn.text, turn);
}

export function assistantMessage(turn: Turn, reply: string): ChatMessage {
  return message("assistant", reply, turn);
}

function message(role: ChatMessage["role"], content: string, turn: Turn): ChatMessage {
  return {
    role,
    content,
    turnId: turn.turnId,
    servedBy: turn.servedBy,
    at: new Date().toISOString(),
  };
}

/** Where the page of at most `limit` messages ending just before position `end` starts. */
export function pageStart(end: number, limit: number): number {
  return Math.max(0, end - limit);
}

/** The page whose first message sits at position `start`; nothing is before position 0. */
export function pageAt(start: number, messages: ChatMessage[]): HistoryPage {
  return { messages, before: start > 0 ? start : null };
}

/** The page cut from the whole history: for a service that can only load all of it. */
export function historyPageOf(
  history: readonly ChatMessage[],
  { limit, before }: HistoryPageRequest,
): HistoryPage {
  const end = before ?? history.length;
  const start = pageStart(end, limit);
  return pageAt(start, history.slice(start, end));
}
