/** Which worker process handled a request: the article's first debugging tip, on every response. */
export interface ServedBy {
  workerId: number;
  pid: number;
  hostname: string;
}

export type Role = "user" | "assistant";

/** One stored message of a conversation, as `GET /conversations/:id/messages` returns it. */
export interface ChatMessage {
  role: Role;
  content: string;
  /** The turn that produced this message; a turn writes one user and one assistant message. */
  turnId: string;
  servedBy: ServedBy;
  /** ISO-8601 time the message was created. */
  at: string;
}

/** The verified caller, taken from the bearer token. */
export interface Identity {
  tenant: string;
  user: string;
}

/** Body of a successful `POST /conversations/:id/turns`. */
export interface TurnResponse {
  conversationId: string;
  turnId: string;
  reply: string;
  /** Messages the agent was given for this turn, including this turn's user message. */
  messagesSeen: number;
  /**
   * Messages in the whole history this turn was based on, before its own. Equals
   * messagesSeen - 1 unless the agent is given a bounded context window.
   */
  historyLength: number;
  servedBy: ServedBy;
  /** True when this turnId had already completed: the stored answer, the agent did not run again. */
  replayed?: boolean;
}

/** Body of `GET /conversations/:id/messages`. */
export interface MessagesResponse {
  conversationId: string;
  messages: ChatMessage[];
  servedBy: ServedBy;
}

/** Body of `GET /conversations/:id/messages?limit=N[&before=cursor]`: one page, oldest first. */
export interface MessagesPageResponse {
  conversationId: string;
  messages: ChatMessage[];
  /**
   * Opaque cursor: `?limit=N&before=<it>` reads the page before this one. null when this page
   * starts the history.
   */
  before: string | null;
  servedBy: ServedBy;
}

/** Body of `GET /healthz`. */
export interface HealthResponse {
  ok: boolean;
  /** Which app this is (in the sandbox: broken, fixed or exercise). */
  app: string;
  scenario: string;
  store: { backend: string; reachable: boolean };
  /** This worker's memory: how in-process state grows (or does not). */
  memory: { rssBytes: number; heapUsedBytes: number };
  servedBy: ServedBy;
}

/** Body of every error response. */
export interface ErrorResponse {
  error: { code: string; message: string };
}
