import { type Agent, request } from "node:http";
import { createParser } from "eventsource-parser";
import { requestJson } from "../load/http-json.ts";

/** One streamed turn as its client saw it: when its first delta and its done event arrived. */
export interface StreamedTurnTiming {
  status: number;
  /** Delta events received. */
  deltas: number;
  /** From sending the request to the first delta event, in ms (none if no delta came). */
  firstDeltaMs?: number;
  /** From sending the request to the done event, in ms (none if the turn did not end done). */
  doneMs?: number;
  /** The event that ended the stream, if any. */
  end?: "done" | "error";
}

export interface StreamedTurnRequest {
  appUrl: string;
  token: string;
  conversationId: string;
  text: string;
  /** A keep-alive agent (the connection stays on its worker), or false for a fresh connection. */
  agent: Agent | false;
  timeoutMs?: number;
}

/**
 * POSTs one turn with `Accept: text/event-stream` and times its events as they are parsed
 * (eventsource-parser): the client's view, HTTP and SSE framing included. Resolves once the
 * response has ended; rejects only when no response came (connection refused, timeout).
 */
export function postStreamedTurn(turn: StreamedTurnRequest): Promise<StreamedTurnTiming> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(`${turn.appUrl}/conversations/${turn.conversationId}/turns`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${turn.token}`,
        "content-type": "application/json",
        accept: "text/event-stream",
      },
      agent: turn.agent,
      timeout: turn.timeoutMs ?? 60_000,
    });
    req.on("timeout", () => req.destroy(new Error("streamed turn timed out")));
    req.on("error", reject);
    req.on("response", (res) => {
      const timing: StreamedTurnTiming = { status: res.statusCode ?? 0, deltas: 0 };
      const elapsed = () => performance.now() - started;
      const parser = createParser({
        onEvent: ({ event }) => {
          if (event === "delta") {
            timing.deltas += 1;
            timing.firstDeltaMs ??= elapsed();
          } else if (event === "done" || event === "error") {
            timing.end = event;
            if (event === "done") timing.doneMs = elapsed();
          }
        },
      });
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => parser.feed(chunk));
      res.on("end", () => resolve(timing));
      res.on("error", reject);
    });
    req.end(JSON.stringify({ text: turn.text }));
  });
}

/** The same turn answered as JSON (no event stream): timed to its whole answer, no deltas. */
export async function postJsonTurn(turn: StreamedTurnRequest): Promise<StreamedTurnTiming> {
  const started = performance.now();
  const res = await requestJson(`${turn.appUrl}/conversations/${turn.conversationId}/turns`, {
    method: "POST",
    headers: { authorization: `Bearer ${turn.token}`, "content-type": "application/json" },
    body: JSON.stringify({ text: turn.text }),
    agent: turn.agent || undefined,
    timeoutMs: turn.timeoutMs ?? 60_000,
  });
  const ok = res.status === 200;
  return {
    status: res.status,
    deltas: 0,
    end: ok ? "done" : undefined,
    doneMs: ok ? performance.now() - started : undefined,
  };
}

/**
 * A user text of `replyWords - 9` words: the scripted model's reply to the first turn of a
 * conversation quotes it in 9 words of its own (`You said "...". I remember no earlier
 * message from you.`), one delta per word, so the reply has `replyWords` deltas.
 */
export function textForReplyOf(replyWords: number): string {
  const words = Math.max(1, replyWords - REPLY_OWN_WORDS);
  return Array.from({ length: words }, (_, i) => `w${i}`).join(" ");
}

/** The words the scripted model adds around the quoted text of a first turn. */
const REPLY_OWN_WORDS = 9;
