import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { ChatMessage, ServedBy } from "../../../service/contract.ts";
import { type JsonResponse, requestJson } from "../../load/http-json.ts";

// The answers are parsed, not cast: a server that answers something else (another
// program on the port, a proxy's HTML page) becomes a readable failure, not a crash.
const ServedBySchema = z.object({ workerId: z.number(), pid: z.number(), hostname: z.string() });
const TurnSchema = z.object({
  turnId: z.string(),
  reply: z.string(),
  messagesSeen: z.number(),
  servedBy: ServedBySchema,
});
const MessagesSchema = z.object({
  messages: z.array(
    z.object({
      role: z.enum(["user", "assistant"]),
      content: z.string(),
      turnId: z.string(),
      servedBy: ServedBySchema,
      at: z.string(),
    }),
  ),
  servedBy: ServedBySchema,
});
const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** A request that did not succeed: an error answer (`status` set) or no answer at all. */
export interface Failure {
  ok: false;
  status?: number;
  code: string;
  message: string;
}

export interface TurnReply {
  ok: true;
  /** 1-based number of the turn in this conversation, counting every line sent. */
  turn: number;
  reply: string;
  messagesSeen: number;
  /** 2k-1 for the k-th acknowledged turn: every earlier turn's two messages, plus this one. */
  expected: number;
  /** The agent was given fewer messages than the conversation already had. */
  forgot: boolean;
  servedBy: ServedBy;
}

export interface HistoryReply {
  ok: true;
  messages: ChatMessage[];
  /** Messages every worker should return: two per acknowledged turn. */
  expected: number;
  servedBy: ServedBy;
}

export type TurnOutcome = TurnReply | (Failure & { turn: number });
export type HistoryOutcome = HistoryReply | Failure;

export interface ChatSessionOptions {
  url: string;
  token: string;
  conversationId?: string;
  timeoutMs?: number;
}

/** A conversation id that is new on every run, so a Redis kept by `npm start` never mixes runs. */
export function newConversationId(): string {
  return `chat-${randomBytes(3).toString("hex")}`;
}

/**
 * One user's conversation with one app. Every request goes through `requestJson`, which
 * opens a fresh TCP connection: the cluster primary balances connections, not requests,
 * so a kept-alive connection would pin the whole chat to one worker and hide the bug.
 */
export class ChatSession {
  readonly url: string;
  conversationId: string;
  /** Turns the server acknowledged (2xx) in this conversation. */
  acknowledged = 0;
  private sent = 0;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(options: ChatSessionOptions) {
    this.url = options.url.replace(/\/+$/, "");
    this.token = options.token;
    this.conversationId = options.conversationId ?? newConversationId();
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Starts over under a new id; the old conversation stays on the server. */
  newConversation(conversationId = newConversationId()): string {
    this.conversationId = conversationId;
    this.acknowledged = 0;
    this.sent = 0;
    return conversationId;
  }

  async send(text: string): Promise<TurnOutcome> {
    const turn = ++this.sent;
    const expected = 2 * this.acknowledged + 1;
    const answer = await this.request("POST", "turns", JSON.stringify({ text }));
    if (!answer.ok) return { ...answer, turn };
    const body = TurnSchema.safeParse(answer.response.body);
    if (!body.success) return { ...unexpected(answer.response), turn };
    // Only a 2xx counts: a rejected turn stores nothing, so it must not raise the bar.
    this.acknowledged++;
    const { reply, messagesSeen, servedBy } = body.data;
    return {
      ok: true,
      turn,
      reply,
      messagesSeen,
      expected,
      forgot: messagesSeen < expected,
      servedBy,
    };
  }

  /** The stored messages as the worker that happens to answer this GET sees them. */
  async history(): Promise<HistoryOutcome> {
    const answer = await this.request("GET", "messages");
    if (!answer.ok) return answer;
    const body = MessagesSchema.safeParse(answer.response.body);
    if (!body.success) return unexpected(answer.response);
    return {
      ok: true,
      messages: body.data.messages,
      expected: 2 * this.acknowledged,
      servedBy: body.data.servedBy,
    };
  }

  private async request(
    method: "GET" | "POST",
    path: "turns" | "messages",
    body?: string,
  ): Promise<{ ok: true; response: JsonResponse } | Failure> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const url = `${this.url}/conversations/${encodeURIComponent(this.conversationId)}/${path}`;
    let response: JsonResponse;
    try {
      response = await requestJson(url, { method, headers, body, timeoutMs: this.timeoutMs });
    } catch (error) {
      return { ok: false, code: "no_answer", message: (error as Error).message };
    }
    if (response.status >= 200 && response.status < 300) return { ok: true, response };
    const error = ErrorSchema.safeParse(response.body);
    if (error.success) return { ok: false, status: response.status, ...error.data.error };
    return unexpected(response);
  }
}

function unexpected(response: JsonResponse): Failure {
  const text = typeof response.body === "string" ? response.body : JSON.stringify(response.body);
  return {
    ok: false,
    status: response.status,
    code: "unexpected_answer",
    message: text.length > 200 ? `${text.slice(0, 200)}...` : text,
  };
}
