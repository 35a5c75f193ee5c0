import { type Agent, type IncomingHttpHeaders, type IncomingMessage, request } from "node:http";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { StreamCut, StreamEventLog, WorkerHeaders } from "./records.ts";

/** One request whose answer may be a stream of server-sent events. */
export interface SseRequest {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  /** The load connection's keep-alive agent, or false for a fresh connection. */
  agent: Agent | false;
  /** No byte for this long: the client gives up (cut "timeout"). */
  timeoutMs: number;
  /** No answer at all (its status and headers) for this long: given up too (cut "timeout"). */
  answerTimeoutMs?: number;
  /** Aborted when the run stops (cut "run-stopped"). */
  signal: AbortSignal;
  /** Destroy the connection once this many deltas have arrived (cut "dropped"). */
  dropAfter?: number;
  /** Told the count of deltas received so far, after each one. */
  onDelta?: (deltas: number) => void;
  /** Looks at the answering worker first: false aborts the request (`declined`). */
  accept?: (worker: WorkerHeaders | undefined) => boolean;
}

/** What came back: a stream's events, or another answer's body. */
export interface SseAnswer {
  /** Absent when no answer came (refused, dropped or timed out before the headers). */
  status?: number;
  worker?: WorkerHeaders;
  eventStream: boolean;
  /** The body of an answer that is not an event stream. */
  body?: string;
  events: StreamEventLog[];
  /** The done or error event that ended the stream, its data parsed. */
  end?: { type: "done" | "error"; data: unknown };
  /** Why it ended before done or error (or before any answer). */
  cut?: StreamCut;
  /** `accept` turned the worker down. */
  declined: boolean;
}

/** The worker named by a response's `X-Worker-Id` and `X-Worker-Pid` headers. */
export function workerOfHeaders(headers: IncomingHttpHeaders): WorkerHeaders | undefined {
  const workerId = Number(headers["x-worker-id"]);
  const pid = Number(headers["x-worker-pid"]);
  return Number.isInteger(pid) && headers["x-worker-pid"] ? { workerId, pid } : undefined;
}

/**
 * Sends the request and reads its answer: an event stream is parsed with eventsource-parser
 * until its done or error event and the response's end, or until the client drops it, gives
 * up, or the run stops. Never rejects: how it ended is in the answer.
 */
export function requestEvents(options: SseRequest): Promise<SseAnswer> {
  return new Promise((resolve) => {
    const answer: SseAnswer = { eventStream: false, events: [], declined: false };
    let settled = false;
    let answerTimer: NodeJS.Timeout | undefined;
    const finish = (cut?: StreamCut) => {
      if (settled) return;
      settled = true;
      clearTimeout(answerTimer);
      if (cut && !answer.end) answer.cut = cut;
      resolve(answer);
    };
    const lost = () => finish(options.signal.aborted ? "run-stopped" : "connection-lost");
    const req = request(options.url, {
      method: options.method,
      headers: options.headers,
      agent: options.agent,
      timeout: options.timeoutMs,
      signal: options.signal,
    });
    // Settled first, so the errors that destroying the request raises change nothing.
    const end = (cut?: StreamCut) => {
      finish(cut);
      req.destroy();
    };
    req.on("timeout", () => end("timeout"));
    req.on("error", lost);
    if (options.answerTimeoutMs !== undefined) {
      answerTimer = setTimeout(() => end("timeout"), options.answerTimeoutMs);
    }
    req.on("response", (res) => {
      clearTimeout(answerTimer);
      answer.status = res.statusCode;
      answer.worker = workerOfHeaders(res.headers);
      answer.declined = options.accept?.(answer.worker) === false;
      if (answer.declined) return end();
      res.on("close", lost);
      if (!isEventStream(res)) return readBody(res, answer, finish);
      readEvents(res, answer, {
        dropAfter: options.dropAfter,
        onDelta: options.onDelta,
        drop: () => end("dropped"),
        finish,
      });
    });
    req.end(options.body);
  });
}

function isEventStream(res: IncomingMessage): boolean {
  const type = String(res.headers["content-type"] ?? "");
  return res.statusCode === 200 && type.startsWith("text/event-stream");
}

function readBody(res: IncomingMessage, answer: SseAnswer, finish: () => void): void {
  const chunks: Buffer[] = [];
  res.on("data", (chunk: Buffer) => chunks.push(chunk));
  res.on("end", () => {
    answer.body = Buffer.concat(chunks).toString("utf8");
    finish();
  });
}

interface StreamReading {
  dropAfter?: number;
  onDelta?: (deltas: number) => void;
  drop: () => void;
  finish: (cut?: StreamCut) => void;
}

/** Feeds the stream to the parser, event by event, until it ends or is dropped. */
function readEvents(res: IncomingMessage, answer: SseAnswer, reading: StreamReading): void {
  answer.eventStream = true;
  let dropped = false;
  const dropNow = () => {
    dropped = true;
    reading.drop();
  };
  const parser = createParser({
    onEvent: (event) => {
      // The parser may hold more events of the same chunk: a dropped stream reads none of them.
      if (dropped) return;
      const log = recordEvent(event, answer);
      if (log.type !== "delta") return;
      const deltas = deltasIn(answer);
      reading.onDelta?.(deltas);
      if (deltas === reading.dropAfter && !answer.end) dropNow();
    },
  });
  if (reading.dropAfter === 0) {
    dropNow();
    return;
  }
  res.setEncoding("utf8");
  res.on("data", (chunk: string) => {
    if (!dropped) parser.feed(chunk);
  });
  res.on("end", () => reading.finish("ended-early"));
}

function recordEvent(event: EventSourceMessage, answer: SseAnswer): StreamEventLog {
  const id = Number(event.id);
  const log: StreamEventLog = {
    id: Number.isInteger(id) && id > 0 ? id : 0,
    type: event.event ?? "message",
  };
  if (log.type === "delta") log.text = textOf(event.data);
  answer.events.push(log);
  if (log.type === "done" || log.type === "error") {
    answer.end = { type: log.type, data: parseJson(event.data) };
  }
  return log;
}

function deltasIn(answer: SseAnswer): number {
  return answer.events.filter((event) => event.type === "delta").length;
}

function textOf(data: string): string | undefined {
  const text = (parseJson(data) as { text?: unknown } | undefined)?.text;
  return typeof text === "string" ? text : undefined;
}

function parseJson(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
