import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ChatMessage, ServedBy } from "../../service/contract.ts";

/** One turn's events as the fake app keeps them, and the responses following them live. */
interface FakeStream {
  producer: number;
  events: { id: number; event: string; data: string }[];
  followers: Set<ServerResponse>;
}

export interface FakeStreamAppOptions {
  token: string;
  /** Workers the fake stands for; each TCP connection is handed to one, as node:cluster does. */
  workers: number;
  /** true: any worker serves a stream (the fixed pattern); false: only its producer (the broken). */
  sharedStreams: boolean;
  /** Which worker the n-th connection (0-based) goes to; round robin by default. */
  assign?: (connection: number) => number;
  /** Answer this turn before streaming: a JSON refusal (409), or never (hang). */
  behave?: (text: string) => "stream" | "refuse" | "hang";
  /**
   * Workers killed a moment ago: a connection handed to one is never answered, as node:cluster's
   * primary can hand a new connection to a worker it has not yet seen die.
   */
  deadWorkers?: readonly number[];
}

export interface FakeStreamApp {
  url: string;
  histories: Map<string, ChatMessage[]>;
  stop(): Promise<void>;
}

const WORD_EVERY_MS = 2;

/**
 * A one-process app with the service's streamed-turn contract, standing for a cluster: each
 * connection is served by one of `workers` fake workers (servedBy, X-Worker-* headers), every
 * turn is stored in one shared history once its reply is written, and each turn's events are
 * kept for the stream route: by any worker, or only by their producer.
 */
export async function startFakeStreamApp(options: FakeStreamAppOptions): Promise<FakeStreamApp> {
  const histories = new Map<string, ChatMessage[]>();
  const streams = new Map<string, FakeStream>();
  const hanging: ServerResponse[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const worker = (req.socket as Socket & { worker: number }).worker;
    if (options.deadWorkers?.includes(worker)) return void hanging.push(res);
    const servedBy: ServedBy = { workerId: worker + 1, pid: 5000 + worker, hostname: "fake" };
    res.setHeader("X-Worker-Id", String(servedBy.workerId));
    res.setHeader("X-Worker-Pid", String(servedBy.pid));
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      route({ req, res, body, servedBy, worker }, { options, histories, streams, hanging });
    });
  });
  server.on("connection", (socket: Socket & { worker?: number }) => {
    socket.worker = (options.assign ?? ((n) => n % options.workers))(connections++);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    histories,
    stop: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  body: string;
  servedBy: ServedBy;
  worker: number;
}

interface AppState {
  options: FakeStreamAppOptions;
  histories: Map<string, ChatMessage[]>;
  streams: Map<string, FakeStream>;
  hanging: ServerResponse[];
}

function route(exchange: Exchange, state: AppState) {
  const { req, res, servedBy } = exchange;
  const path = req.url ?? "";
  if (path === "/healthz") return json(res, 200, { ok: true, servedBy });
  if (req.headers.authorization !== `Bearer ${state.options.token}`) {
    return json(res, 401, { error: { code: "unauthorized", message: "no token" } });
  }
  const stream = path.match(/^\/conversations\/([^/]+)\/turns\/([^/]+)\/stream$/);
  if (req.method === "GET" && stream) return resumeStream(exchange, state, stream[2] ?? "");
  const match = path.match(/^\/conversations\/([^/]+)\/(turns|messages)$/);
  const conversationId = match?.[1] ?? "";
  if (req.method === "POST" && match?.[2] === "turns") {
    return streamTurn(exchange, state, conversationId);
  }
  if (req.method === "GET" && match?.[2] === "messages") {
    return json(res, 200, {
      conversationId,
      messages: state.histories.get(conversationId) ?? [],
      servedBy,
    });
  }
  json(res, 404, { error: { code: "not_found", message: path } });
}

function streamTurn(exchange: Exchange, state: AppState, conversationId: string) {
  const { res, servedBy, worker } = exchange;
  const { text, turnId } = JSON.parse(exchange.body) as { text: string; turnId: string };
  const behaviour = state.options.behave?.(text) ?? "stream";
  if (behaviour === "refuse") {
    return json(res, 409, { error: { code: "conversation_busy", message: "busy" } });
  }
  const stream: FakeStream = { producer: worker, events: [], followers: new Set([res]) };
  state.streams.set(turnId, stream);
  startEvents(res);
  if (behaviour === "hang") return void state.hanging.push(res);
  const history = state.histories.get(conversationId) ?? [];
  const reply = `You said ${text} and I remember ${history.length / 2} turns.`;
  const answer = {
    conversationId,
    turnId,
    reply,
    messagesSeen: history.length + 1,
    historyLength: history.length,
    servedBy,
  };
  const words = reply.split(/(?<= )/);
  // One word at a time, each timer set by the previous one: never out of order.
  const next = () => {
    const word = words.shift();
    if (word !== undefined) {
      emit(stream, "delta", { text: word });
      setTimeout(next, WORD_EVERY_MS);
      return;
    }
    const at = new Date().toISOString();
    history.push({ role: "user", content: text, turnId, servedBy, at });
    history.push({ role: "assistant", content: reply, turnId, servedBy, at });
    state.histories.set(conversationId, history);
    emit(stream, "done", answer);
  };
  setTimeout(next, WORD_EVERY_MS);
}

function resumeStream(exchange: Exchange, state: AppState, turnId: string) {
  const { req, res, worker } = exchange;
  const stream = state.streams.get(turnId);
  if (!stream || (!state.options.sharedStreams && stream.producer !== worker)) {
    return json(res, 404, { error: { code: "not_found", message: `no stream for ${turnId}` } });
  }
  const after = Number(req.headers["last-event-id"] ?? 0);
  startEvents(res);
  for (const event of stream.events.filter((e) => e.id > after)) write(res, event);
  if (stream.events.at(-1)?.event === "done") return void res.end();
  stream.followers.add(res);
}

function emit(stream: FakeStream, event: string, data: unknown): void {
  const added = { id: stream.events.length + 1, event, data: JSON.stringify(data) };
  stream.events.push(added);
  for (const res of stream.followers) {
    if (res.destroyed) continue;
    write(res, added);
    if (event === "done") res.end();
  }
}

function startEvents(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
  res.flushHeaders();
}

function write(res: ServerResponse, { id, event, data }: FakeStream["events"][number]): void {
  res.write(`event: ${event}\nid: ${id}\ndata: ${data}\n\n`);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
