import { request } from "node:http";
import { connect } from "node:net";

/** What came back: the status, the headers, and the body parsed as JSON when it is JSON. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface ExactRequest {
  method: string;
  /** Sent as written: no URL normalisation, so "..", "%2e%2e" and bad escapes reach the server. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/**
 * One request on a fresh connection with node:http, the path untouched (`fetch` and `new URL`
 * would resolve dot segments). Rejects on a dropped connection or after `timeoutMs`.
 */
export function sendExact(port: number, req: ExactRequest, timeoutMs = 10_000) {
  return new Promise<WireResponse>((resolve, reject) => {
    const outgoing = request(
      {
        host: "127.0.0.1",
        port,
        method: req.method,
        path: req.path,
        // Node frames a GET body with neither Content-Length nor chunked; say the length.
        headers: {
          connection: "close",
          ...(req.body === undefined ? {} : { "content-length": Buffer.byteLength(req.body) }),
          ...req.headers,
        },
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: flatten(res.headers),
            body: parseJson(Buffer.concat(chunks).toString("utf8")),
          }),
        );
      },
    );
    outgoing.on("timeout", () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on("error", reject);
    outgoing.end(req.body);
  });
}

/**
 * Writes `bytes` as they are on a new TCP connection (for what node:http refuses to send:
 * CR, LF or NUL inside header values, broken request lines) and reads until the server
 * closes. Rejects when the connection is reset, or after `timeoutMs`.
 */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 10_000) {
  return new Promise<WireResponse>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`connection still open after ${timeoutMs} ms`)),
    );
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    // "end" is the server's FIN: a clean close. A reset arrives as "error" instead.
    socket.on("end", () => {
      socket.end();
      resolve(parseResponse(Buffer.concat(chunks).toString("latin1")));
    });
    socket.write(bytes);
  });
}

function parseResponse(text: string): WireResponse {
  const headEnd = text.indexOf("\r\n\r\n");
  const [statusLine = "", ...headerLines] = text
    .slice(0, headEnd < 0 ? text.length : headEnd)
    .split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rawBody = headEnd < 0 ? "" : text.slice(headEnd + 4);
  return {
    status: Number(statusLine.match(/^HTTP\/1\.[01] (\d{3})/)?.[1] ?? 0),
    headers,
    body: parseJson(Buffer.from(rawBody, "latin1").toString("utf8")),
  };
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return flat;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
