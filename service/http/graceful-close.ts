import type { Server, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * How long a draining server keeps serving (each answer with `Connection: close`) before it
 * closes the connections that stayed idle. Closing an idle keep-alive connection at once
 * races with a request the client is sending on it right then: that request is lost without
 * an answer. A client that is actively sending gets its `Connection: close` well within this.
 */
const DRAIN_GRACE_MS = 500;

/**
 * Returns a function that stops `server` gracefully: every answer from now on carries
 * `Connection: close`, so keep-alive clients move to another worker after their current
 * request; after DRAIN_GRACE_MS the server stops accepting and closes the connections still
 * idle; requests in flight finish. Resolves once every connection has closed.
 */
export function gracefulClose(server: Server): () => Promise<void> {
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  // Prepended: runs before the app, so the header is set before any answer is written.
  server.prependListener("request", (_req, res: ServerResponse) => {
    if (closing) res.setHeader("connection", "close");
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
  });
  return async () => {
    closing = true;
    for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
    await sleep(DRAIN_GRACE_MS);
    // Node's close() also closes the idle connections; busy ones close after their answer.
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
