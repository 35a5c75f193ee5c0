import type { ServerResponse } from "node:http";

/** The apps' error shape, `{ error: { code, message } }`, so the page reads both the same way. */
export function sendJsonError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify({ error: { code, message } }));
}
