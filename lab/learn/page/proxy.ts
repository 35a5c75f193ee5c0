import { type IncomingMessage, request, type ServerResponse } from "node:http";
import { issueToken } from "../../../service/auth/tokens.ts";
import { CONVERSATION_ID_PATTERN } from "../../../service/http/schemas.ts";
import { sendJsonError } from "./respond.ts";

/** One of the two apps the page talks to. */
export interface Upstream {
  name: string;
  /** Base URL, e.g. http://127.0.0.1:3001 */
  url: string;
}

/** A turnId as the apps accept it (service/http/schemas.ts checks it again). */
const TURN_ID_PATTERN = "[A-Za-z0-9_-]{1,64}";

function conversationRoute(action: string): RegExp {
  return new RegExp(`^/conversations/${CONVERSATION_ID_PATTERN}/${action}$`);
}

interface Route {
  method: string;
  path: RegExp;
  auth: boolean;
  /** A resume of a turn's stream: it must reach another worker than the one that produced it. */
  resume?: boolean;
}

// Only the HTTP contract goes through: the page server is not an open relay to the apps.
const ROUTES: readonly Route[] = [
  { method: "GET", path: /^\/healthz$/, auth: false },
  { method: "POST", path: conversationRoute("turns"), auth: true },
  { method: "GET", path: conversationRoute("messages"), auth: true },
  {
    method: "GET",
    path: conversationRoute(`turns/${TURN_ID_PATTERN}/stream`),
    auth: true,
    resume: true,
  },
];

/** The id the page makes once per browser tab; it becomes the user of the signed token. */
const SESSION = /^[A-Za-z0-9_-]{8,64}$/;
/** `accept` asks for a streamed turn; `last-event-id` says where a resume starts. */
const FORWARDED_HEADERS = [
  "content-type",
  "content-length",
  "idempotency-key",
  "accept",
  "last-event-id",
] as const;
/**
 * The page tells the proxy which worker produced the turn it resumes. Only the proxy reads it:
 * it is not in FORWARDED_HEADERS, so the apps never see it.
 */
export const PRODUCER_HEADER = "x-web-producer-worker";
/** At most this many connections for a resume to land on a worker other than the producer. */
export const RESUME_ATTEMPTS = 8;
const WORKER_ID = /^[0-9]{1,9}$/;
const UPSTREAM_TIMEOUT_MS = 15_000;

/** A refusal of the proxy itself, in the apps' error shape. */
class ProxyRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Forwards one request of the page to one app and streams the answer back as it comes (an
 * event stream too: nothing is buffered). The page never holds a token: the proxy signs one
 * per request for tenant "web" and a user taken from the page's session id. (Fine for a local
 * demo page, whose visitor is the person running it; a real service would take the user from
 * its own login.)
 *
 * Every upstream request opens a fresh TCP connection (`agent: false`): the cluster
 * primary hands out connections, not requests, so a kept-alive upstream connection would
 * pin every turn to one worker and hide the very bug the page is there to show. A resume of a
 * turn's stream goes further: see openElsewhere.
 */
export function proxyToApp(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream,
  path: string,
  secret: string,
): void {
  const route = ROUTES.find((r) => r.method === req.method && r.path.test(path));
  if (!route) {
    const message = `no such route on the page's proxy: ${req.method} ${path}`;
    sendJsonError(res, 404, "not_found", message);
    return;
  }
  // If the browser goes away (or drops the stream on purpose), the upstream request goes too.
  const gone = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) gone.abort();
  });
  const target: Target = {
    url: `${upstream.url}${path}`,
    method: route.method,
    signal: gone.signal,
  };
  void forward(req, res, route, target, secret).catch((error: unknown) =>
    refuse(res, upstream, error),
  );
}

/** One upstream request's method, URL and abort signal (the browser left). */
interface Target {
  url: string;
  method: string;
  signal: AbortSignal;
}

/** Opens the request upstream (a resume: on another worker) and relays the answer. */
async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  route: Route,
  target: Target,
  secret: string,
): Promise<void> {
  const headers = upstreamHeaders(req, route, secret);
  if (!route.resume) {
    relay(await openUpstream(target, headers, req), res);
    return;
  }
  const producer = producerOf(req);
  const { response, skipped } = await openElsewhere(target, headers, producer);
  relay(response, res, skipped);
}

/** What goes to the app: the allowed headers, a fresh connection each, and the signed token. */
function upstreamHeaders(
  req: IncomingMessage,
  route: Route,
  secret: string,
): Record<string, string> {
  const headers: Record<string, string> = { connection: "close" };
  for (const name of FORWARDED_HEADERS) {
    const value = req.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  if (route.auth) {
    const session = req.headers["x-web-session"];
    if (typeof session !== "string" || !SESSION.test(session)) {
      const why = "X-Web-Session must be 8-64 of A-Z a-z 0-9 _ -";
      throw new ProxyRefusal(400, "invalid_session", why);
    }
    const token = issueToken({ tenant: "web", user: `web-${session}` }, secret, 3600);
    headers.authorization = `Bearer ${token}`;
  }
  return headers;
}

/** The worker that produced the turn being resumed, as the page says (none: any worker). */
function producerOf(req: IncomingMessage): string | undefined {
  const value = req.headers[PRODUCER_HEADER];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !WORKER_ID.test(value)) {
    const why = `${PRODUCER_HEADER} must be a worker id (digits)`;
    throw new ProxyRefusal(400, "invalid_headers", why);
  }
  return value;
}

/**
 * Opens the resume on a worker other than the turn's producer, every time: the cluster hands
 * each fresh connection to the next worker, so when one lands on the producer (which could
 * answer from its own memory, hiding the broken app's bug) the proxy drops it and opens
 * another, at most RESUME_ATTEMPTS times.
 */
async function openElsewhere(
  target: Target,
  headers: Record<string, string>,
  producer: string | undefined,
): Promise<{ response: IncomingMessage; skipped: number }> {
  for (let skipped = 0; skipped < RESUME_ATTEMPTS; skipped++) {
    const response = await openUpstream(target, headers);
    if (producer === undefined || response.headers["x-worker-id"] !== producer) {
      return { response, skipped };
    }
    response.destroy();
  }
  throw new ProxyRefusal(
    503,
    "no_other_worker",
    `${RESUME_ATTEMPTS} fresh connections all reached worker ${producer}, the one that produced ` +
      "this turn: does the app run a single worker?",
  );
}

/** One request on a fresh connection; resolves once the app's answer has its headers. */
function openUpstream(
  { url, method, signal }: Target,
  headers: Record<string, string>,
  body?: IncomingMessage,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options = { method, headers, agent: false, timeout: UPSTREAM_TIMEOUT_MS, signal };
    const upstreamReq = request(url, options, resolve);
    upstreamReq.on("timeout", () =>
      upstreamReq.destroy(new Error(`no answer within ${UPSTREAM_TIMEOUT_MS / 1000} s`)),
    );
    upstreamReq.on("error", reject);
    if (body) body.pipe(upstreamReq);
    else upstreamReq.end();
  });
}

/**
 * Sends the app's answer on as it arrives. The worker headers go with it (the page shows who
 * answered), and `X-Web-Skipped` on a resume: how many connections reached the producer first.
 */
function relay(upstreamRes: IncomingMessage, res: ServerResponse, skipped?: number): void {
  const out: Record<string, string> = { "cache-control": "no-store" };
  for (const name of ["content-type", "x-worker-id", "x-worker-pid"]) {
    const value = upstreamRes.headers[name];
    if (typeof value === "string") out[name] = value;
  }
  if (skipped !== undefined) out["x-web-skipped"] = String(skipped);
  if (out["content-type"]?.startsWith("text/event-stream")) out["x-accel-buffering"] = "no";
  res.writeHead(upstreamRes.statusCode ?? 502, out);
  // An event stream's headers go at once: the page learns the worker before the first word.
  res.flushHeaders();
  // Cut upstream mid-answer: cut the browser's too, so it sees a broken stream, not an end.
  upstreamRes.on("error", () => res.destroy());
  upstreamRes.on("close", () => {
    if (!upstreamRes.complete) res.destroy();
  });
  upstreamRes.pipe(res);
}

/** Answers a refusal of the proxy, or an app that could not be reached, in the apps' shape. */
function refuse(res: ServerResponse, upstream: Upstream, error: unknown): void {
  if (res.destroyed) return; // The browser left: nobody to tell.
  if (error instanceof ProxyRefusal) {
    sendJsonError(res, error.status, error.code, error.message);
    return;
  }
  const { code, message } = error as NodeJS.ErrnoException;
  const why = code === "ECONNREFUSED" ? "connection refused" : message;
  sendJsonError(
    res,
    502,
    "app_unreachable",
    `cannot reach the ${upstream.name} app at ${upstream.url} (${why}); is \`npm run start:${upstream.name}\` running?`,
  );
}
