import type { Response } from "express";
import { errorData, type StreamError, type StreamEvent } from "../streams/turn-streams.ts";

/**
 * Server-sent events on an Express response: the headers, one event, and a stream of them.
 * Every event's data is one line of JSON, so one `data:` line carries it.
 */

/** A standard EventSource that loses its connection tries again after this (its default: 3 s). */
const RECONNECT_MS = 1000;

/** Starts the event stream: 200, not cached, not buffered by a proxy in between. */
export function startEventStream(res: Response): void {
  res.status(200);
  res.set({
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
  });
  res.write(`retry: ${RECONNECT_MS}\n\n`);
}

export function writeEvent(res: Response, { id, event, data }: StreamEvent): void {
  res.write(`event: ${event}\nid: ${id}\ndata: ${data}\n\n`);
}

/** The stream could not be read to its end: the store failed mid-way. */
export const STREAM_READ_FAILED: StreamError = {
  code: "store_unavailable",
  message:
    "the turn's stream could not be read to its end: resume it with Last-Event-ID, or read the turn's messages",
};

/** Ends the stream with an error event the stream itself could not hold. */
export function endWithError(res: Response, id: number, error: StreamError): void {
  if (!res.writableEnded && !res.destroyed) {
    writeEvent(res, { id, event: "error", data: errorData(error) });
    res.end();
  }
}

/** What sending a stream came to: its last event sent, and whether reading it failed. */
export interface Sent {
  last: StreamEvent | undefined;
  readFailed: boolean;
}

/**
 * Sends `events` until they end, or the client goes away (the events are then dropped, the
 * turn goes on), or the store fails to give the next one.
 */
export async function sendEvents(res: Response, events: AsyncIterable<StreamEvent>): Promise<Sent> {
  let last: StreamEvent | undefined;
  try {
    for await (const event of events) {
      if (res.writableEnded || res.destroyed) break;
      writeEvent(res, event);
      last = event;
    }
  } catch {
    return { last, readFailed: true };
  }
  return { last, readFailed: false };
}

/** Aborted once the client closes the connection: ends a reader's wait for the next event. */
export function whileConnected(res: Response): AbortSignal {
  const gone = new AbortController();
  res.once("close", () => gone.abort());
  return gone.signal;
}
