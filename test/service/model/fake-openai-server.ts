import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request the fake received, as it arrived. */
export interface FakeRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/**
 * How the fake answers the next requests:
 * - `ok`: a chat completion whose content is `reply(body)`;
 * - `fail`: HTTP 500 with an OpenAI-style error body;
 * - `unauthorized`: HTTP 401 with an error body echoing the key it got (as some servers do);
 * - `malformed`: HTTP 200 with JSON that is not a chat completion;
 * - `not-json`: HTTP 200 with an HTML body;
 * - `hang`: never answers (the client must time out).
 */
export type FakeMode = "ok" | "fail" | "unauthorized" | "malformed" | "not-json" | "hang";

export interface FakeOpenAIServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  mode: FakeMode;
  readonly requests: FakeRequest[];
  close(): Promise<void>;
}

/** The fake's reply: deterministic, quotes the last user message and counts what it was given. */
export function fakeReply(body: unknown): string {
  const messages = (body as { messages?: { role: string; content: string }[] }).messages ?? [];
  const lastUser = messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
  return `fake model saw ${messages.length} message(s); last user message: "${lastUser}"`;
}

/**
 * A tiny OpenAI-compatible server on 127.0.0.1 (port 0: the OS picks one). It answers
 * `POST <anything>/chat/completions` and records every request; no test reaches the internet.
 */
export async function startFakeOpenAI(): Promise<FakeOpenAIServer> {
  const requests: FakeRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Keep the raw text: the test will see it is not what was expected.
      }
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
        return json(res, 404, { error: { message: `no route for ${req.method} ${req.url}` } });
      }
      switch (fake.mode) {
        case "ok":
          return json(res, 200, {
            id: `chatcmpl-${requests.length}`,
            object: "chat.completion",
            model: (body as { model?: string }).model,
            choices: [
              {
                index: 0,
                message: { role: "assistant", content: fakeReply(body) },
                finish_reason: "stop",
              },
            ],
          });
        case "fail":
          return json(res, 500, { error: { message: "fake failure", type: "server_error" } });
        case "unauthorized":
          return json(res, 401, {
            error: { message: `Incorrect API key provided: ${req.headers.authorization}` },
          });
        case "malformed":
          return json(res, 200, { choices: [{ message: { content: null } }] });
        case "not-json":
          res.writeHead(200, { "content-type": "text/html" });
          return res.end("<html>not an API</html>");
        case "hang":
          return; // Never answer.
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const fake: FakeOpenAIServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    mode: "ok",
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging requests and keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
  return fake;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
