import { EventSourceParserStream } from "eventsource-parser/stream";
import { z } from "zod";
import { ModelError } from "../errors.ts";
import {
  type AgentMessage,
  type CompleteOptions,
  DEFAULT_MODEL_TIMEOUT_MS,
  type ModelClient,
} from "./model-client.ts";

/** The part of a chat-completion response the agent needs; anything else is ignored. */
const ChatCompletionSchema = z.object({
  choices: z
    .array(z.object({ message: z.object({ content: z.string() }) }))
    .min(1, "expected at least one choice"),
});

/** One event of a streamed chat completion (`stream: true`): the next piece of the reply. */
const ChunkSchema = z.object({
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }) })),
});

/** How OpenAI, Ollama and most compatible servers describe an error. */
const ErrorBodySchema = z.object({
  error: z.union([z.string(), z.object({ message: z.string() })]),
});

/** Longest piece of the server's own error message quoted in a ModelError. */
const MAX_QUOTED_CHARS = 200;

export interface OpenAICompatibleOptions {
  /** Base URL of the API, without `/chat/completions`, e.g. `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  /** The model to ask for, e.g. `llama3.2`. */
  model: string;
  /** Sent as `Authorization: Bearer <key>` when set; never appears in an error message. */
  apiKey?: string;
  /** Give up on one completion (request and response body) after this many ms. */
  timeoutMs?: number;
}

/**
 * A model behind any OpenAI-compatible chat-completions API: OpenAI itself, or a local
 * Ollama (`http://127.0.0.1:11434/v1`), llama.cpp's server, vLLM, LM Studio, ...
 * One `POST {baseUrl}/chat/completions` per reply, streamed (`stream: true`) when the caller
 * wants the pieces, no retries (a retried completion is a different reply). Every failure
 * becomes a `ModelError` (502).
 */
export class OpenAICompatibleModel implements ModelClient {
  readonly name: string;
  private readonly url: string;
  private readonly timeoutMs: number;

  constructor(private readonly options: OpenAICompatibleOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, "")}/chat/completions`;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_MODEL_TIMEOUT_MS;
    this.name = `openai-compatible:${options.model}`;
  }

  async complete(
    messages: readonly AgentMessage[],
    options: CompleteOptions = {},
  ): Promise<string> {
    const signal = AbortSignal.timeout(this.timeoutMs);
    const response = await this.post(this.requestBody(messages, options), signal);
    try {
      if (response.status < 200 || response.status > 299) {
        throw this.error(this.describeStatus(response.status, await response.text()));
      }
      return options.onDelta
        ? await this.readStream(response, options.onDelta)
        : this.readReply(response.status, await response.text());
    } catch (error) {
      if (error instanceof ModelError) throw error;
      // The body is read under the same deadline: a server may send headers and then stall.
      if (signal.aborted) throw this.error(`no answer within ${this.timeoutMs} ms`, error);
      throw this.error(`the answer broke off (${networkDetail(error)})`, error);
    }
  }

  private requestBody(messages: readonly AgentMessage[], options: CompleteOptions) {
    return {
      model: this.options.model,
      messages: [
        ...(options.system ? [{ role: "system", content: options.system }] : []),
        // Only role and content: the chat service's messages also carry turnId, servedBy, at.
        ...messages.map(({ role, content }) => ({ role, content })),
      ],
      ...(options.onDelta ? { stream: true } : {}),
    };
  }

  private async post(body: object, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "stream" in body ? "text/event-stream" : "application/json",
    };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    try {
      return await fetch(this.url, { method: "POST", headers, body: JSON.stringify(body), signal });
    } catch (error) {
      if (signal.aborted) throw this.error(`no answer within ${this.timeoutMs} ms`, error);
      throw this.error(`could not reach the model server (${networkDetail(error)})`, error);
    }
  }

  private readReply(status: number, text: string): string {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw this.error(`malformed response: the body is not JSON (HTTP ${status})`, error);
    }
    const parsed = ChatCompletionSchema.safeParse(json);
    if (!parsed.success) throw this.malformed(parsed.error);
    // min(1) above guarantees a first choice.
    return (parsed.data.choices[0] as { message: { content: string } }).message.content;
  }

  /** A streamed completion: each event's piece goes to `onDelta`; `[DONE]` ends it. */
  private async readStream(response: Response, onDelta: (text: string) => void): Promise<string> {
    if (!response.body) throw this.error("malformed response: a streamed answer without a body");
    const events = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream());
    let reply = "";
    for await (const { data } of events) {
      if (data === "[DONE]") return reply;
      const parsed = ChunkSchema.safeParse(parseJson(data));
      if (!parsed.success) throw this.malformed(parsed.error);
      const piece = parsed.data.choices[0]?.delta.content ?? "";
      if (piece === "") continue;
      reply += piece;
      onDelta(piece);
    }
    throw this.error("malformed response: the stream ended without [DONE]");
  }

  private malformed(error: z.ZodError): ModelError {
    const issue = error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    return this.error(`malformed response: ${where}${issue?.message ?? "unexpected shape"}`);
  }

  private error(reason: string, cause?: unknown): ModelError {
    return new ModelError(`model "${this.options.model}" did not answer: ${reason}`, cause);
  }

  private describeStatus(status: number, text: string): string {
    if (status === 401 || status === 403) {
      // Do not echo what the server says about credentials; point at the setting instead.
      return `the model server refused the credentials (HTTP ${status}); check MODEL_API_KEY`;
    }
    const quoted = this.serverMessage(text);
    return quoted
      ? `the model server answered HTTP ${status}: ${quoted}`
      : `the model server answered HTTP ${status}`;
  }

  /** The server's own error message, if it sent one, shortened and with the API key masked. */
  private serverMessage(text: string): string | undefined {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return undefined;
    }
    const parsed = ErrorBodySchema.safeParse(json);
    if (!parsed.success) return undefined;
    const { error } = parsed.data;
    let message = typeof error === "string" ? error : error.message;
    if (this.options.apiKey) message = message.split(this.options.apiKey).join("[redacted]");
    return message.length > MAX_QUOTED_CHARS ? `${message.slice(0, MAX_QUOTED_CHARS)}...` : message;
  }
}

/** The event's JSON, or undefined (which the schema then refuses) when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** fetch() rejects with `TypeError("fetch failed")`; the useful part is in its cause. */
function networkDetail(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause && typeof cause === "object" && "code" in cause && typeof cause.code === "string") {
    return cause.code;
  }
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
