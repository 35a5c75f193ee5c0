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

function conversationRoute(action: string): RegExp {
  return new RegExp(`^/conversations/${CONVERSATION_ID_PATTERN}/${action}$`);
}

// Only the HTTP contract goes through: the page server is not an open relay to the apps.
const ROUTES = [
  { method: "GET", path: /^\/healthz$/, auth: false },
  { method: "POST", path: conversationRoute("turns"), auth: true },
  { method: "GET", path: conversationRoute("messages"), auth: true },
] as const;

/** The id the page makes once per browser tab; it becomes the user of the signed token. */
const SESSION = /^[A-Za-z0-9_-]{8,64}$/;
const FORWARDED_HEADERS = ["content-type", "content-length", "idempotency-key"] as const;
const UPSTREAM_TIMEOUT_MS = 15_000;

/**
 * Forwards one request of the page to one app and streams the answer back. The page never
 * holds a token: the proxy signs one per request for tenant "web" and a user taken from the
 * page's session id. (Fine for a local demo page, whose visitor is the person running it;
 * a real service would take the user from its own login.)
 *
 * Every upstream request opens a fresh TCP connection (`agent: false`): the cluster
 * primary hands out connections, not requests, so a kept-alive upstream connection would
 * pin every turn to one worker and hide the very bug the page is there to show.
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
    sendJsonError(
      res,
      404,
      "not_found",
      `no such route on the page's proxy: ${req.method} ${path}`,
    );
    return;
  }
  const headers: Record<string, string> = { connection: "close" };
  for (const name of FORWARDED_HEADERS) {
    const value = req.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  if (route.auth) {
    const session = req.headers["x-web-session"];
    if (typeof session !== "string" || !SESSION.test(session)) {
      sendJsonError(res, 400, "invalid_session", "X-Web-Session must be 8-64 of A-Z a-z 0-9 _ -");
      return;
    }
    const token = issueToken({ tenant: "web", user: `web-${session}` }, secret, 3600);
    headers.authorization = `Bearer ${token}`;
  }

  const upstreamReq = request(
    `${upstream.url}${path}`,
    { method: req.method, headers, agent: false, timeout: UPSTREAM_TIMEOUT_MS },
    (upstreamRes) => {
      const out: Record<string, string> = { "cache-control": "no-store" };
      for (const name of ["content-type", "x-worker-id", "x-worker-pid"]) {
        const value = upstreamRes.headers[name];
        if (typeof value === "string") out[name] = value;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, out);
      upstreamRes.pipe(res);
    },
  );
  upstreamReq.on("timeout", () =>
    upstreamReq.destroy(new Error(`no answer within ${UPSTREAM_TIMEOUT_MS / 1000} s`)),
  );
  upstreamReq.on("error", (error: NodeJS.ErrnoException) => {
    const why = error.code === "ECONNREFUSED" ? "connection refused" : error.message;
    sendJsonError(
      res,
      502,
      "app_unreachable",
      `cannot reach the ${upstream.name} app at ${upstream.url} (${why}); is \`npm run start:${upstream.name}\` running?`,
    );
  });
  // If the browser goes away, do not leave the upstream request hanging.
  res.on("close", () => {
    if (!res.writableFinished) upstreamReq.destroy();
  });
  req.pipe(upstreamReq);
}
