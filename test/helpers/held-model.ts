import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "./wait-for.ts";

/**
 * An OpenAI-compatible model (`POST .../chat/completions`) that holds every completion until the
 * test calls `release()`: a turn that reached it is being handled by a worker, and stays in
 * flight for exactly as long as the test needs, however slow the machine. Its reply quotes the
 * last user message. Point an app at it with `env()`.
 */
export interface HeldModel {
  /** `http://127.0.0.1:<port>`: the app's MODEL_BASE_URL. */
  url: string;
  /** The last user message of every completion asked for so far, in arrival order. */
  readonly asked: readonly string[];
  /** Resolves once `count` completions have been asked for (throws after `timeoutMs`). */
  waitForAsks(count: number, timeoutMs?: number): Promise<void>;
  /** Answers every held completion, and from now on answers at once. */
  release(): void;
  /** The environment that makes an app's agent use this model. */
  env(): Record<string, string>;
  close(): Promise<void>;
}

/** The reply to a completion whose last user message is `text`. */
export const heldModelReply = (text: string) => `the held model answers "${text}"`;

export async function startHeldModel(): Promise<HeldModel> {
  const asked: string[] = [];
  const held: (() => void)[] = [];
  let released = false;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method !== "POST" || !req.url?.endsWith("/chat/completions"))
        return json(res, 404, { error: { message: `no route for ${req.method} ${req.url}` } });
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        messages?: { role: string; content: string }[];
      };
      const text = body.messages?.filter((m) => m.role === "user").at(-1)?.content ?? "";
      asked.push(text);
      const answer = () =>
        json(res, 200, {
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: heldModelReply(text) } }],
        });
      if (released) answer();
      else held.push(answer);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    asked,
    waitForAsks: async (count, timeoutMs = 30_000) => {
      await waitFor(`${count} completion(s) asked of the held model`, () => asked.length >= count, {
        timeoutMs,
        everyMs: 10,
      });
    },
    release: () => {
      released = true;
      for (const answer of held.splice(0)) answer();
    },
    env: () => ({
      AGENT_MODEL: "openai",
      MODEL_BASE_URL: url,
      MODEL_NAME: "held",
      MODEL_TIMEOUT_MS: "120000",
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
