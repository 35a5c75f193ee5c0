import type { StreamDone } from "../store/conversation-store.ts";

/**
 * A streamed reply is state too: the events of a turn still being written. Where they live
 * decides whether a client that reconnects to another worker, or after the producing worker
 * died, can read the rest. These types are what the HTTP layer streams from.
 */

/** The three kinds of event a turn's stream holds; done and error end it. */
export type StreamEventType = "delta" | "done" | "error";

/** One event of a turn's stream, as the SSE response sends it. */
export interface StreamEvent {
  /** The turn's own event id: 1, 2, 3, ..., consecutive. */
  id: number;
  event: StreamEventType;
  /** JSON: `{"text"}` for a delta, the turn's answer for done, `{"error": {code, message}}`. */
  data: string;
}

/** Names a turn's stream: its conversation key (the verified identity's) and its turnId. */
export interface StreamRef {
  key: string;
  turnId: string;
}

/** The lease a streamed turn's producer holds: its writes go through only while it holds it. */
export interface StreamFence {
  leaseKey: string;
  /** The lease's value while this turn holds it: "<token>:<turnId>". */
  holder: string;
}

/** A code and a message, as every error answer of the service carries them. */
export interface StreamError {
  code: string;
  message: string;
}

/** One attempt of a turn, writing its stream. */
export interface StreamProducer {
  /** Starts this attempt's stream: an earlier attempt's events go. Fenced by the lease. */
  open(): Promise<void>;
  /** Queues a delta; deltas are written in order (batched: see STREAM_FLUSH_MS). */
  delta(text: string): void;
  /** Resolves once every queued delta is stored; rejects with the first write's failure. */
  flush(): Promise<void>;
  /**
   * The done event for the turn's answer `data`, with the next id, for the turn's commit to
   * append in the same script as the turn's state; undefined when this store cannot be
   * written by that script (then `finish` writes it).
   */
  doneWithCommit(data: string): StreamDone | undefined;
  /** Writes the done event itself (no commit carried it). */
  finish(data: string): Promise<void>;
  /** Ends the stream with an error event. Rejects when the store cannot take it. */
  fail(error: StreamError): Promise<void>;
  /** The id the next event gets: what a reader resumes after, plus one. */
  readonly nextId: number;
}

/** Where turns' streams live: a worker's memory (the broken pattern) or Redis. */
export interface TurnStreams {
  /** Short name for logs and tests: "memory", "redis". */
  readonly backend: string;
  /** The producer of one attempt of a turn; `fence` is its lease when the app runs a turn gate. */
  producer(ref: StreamRef, fence?: StreamFence): StreamProducer;
  /**
   * The turn's events after `afterId`, in order, then the live ones until done or error.
   * Undefined when there is no such stream here (never started, or expired). The events end
   * early when `signal` aborts (the client went away); the turn itself goes on. `producing`:
   * the caller's own producer has just opened the stream, so it exists and its turn runs.
   */
  follow(
    ref: StreamRef,
    afterId: number,
    signal: AbortSignal,
    producing?: boolean,
  ): Promise<AsyncIterable<StreamEvent> | undefined>;
  /** Releases connections; called on graceful shutdown. */
  close(): Promise<void>;
}

export function isTerminal(event: StreamEvent): boolean {
  return event.event !== "delta";
}

/** A delta's data: the piece of text. */
export function deltaData(text: string): string {
  return JSON.stringify({ text });
}

/** An error event's data: the same shape as every error answer. */
export function errorData(error: StreamError): string {
  return JSON.stringify({ error });
}
