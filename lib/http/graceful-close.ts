import type { Server, ServerResponse } from "node:http";

/**
 * Returns a function that stops `server` gracefully: it accepts no new connection, lets
 * every request in flight finish, and answers each with `Connection: close` so a keep-alive
 * client does not send its next request down a socket that is about to close (that request
 * would be lost without an answer). Resolves once every connection has closed.
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
  return () =>
    new Promise<void>((resolve) => {
      closing = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
      server.close(() => resolve());
      server.closeIdleConnections();
    });
}
