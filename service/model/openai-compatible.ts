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
 * One `POST {baseUrl}/chat/completions` per reply, no streaming, no retries (a retried
 * completion is a different reply). Every failure becomes a `ModelError` (502).
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
    const body = {
      model: this.options.model,
      messages: [
        ...(options.system ? [{ role: "system", content: options.system }] : []),
        // Only role and content: the chat service's messages also carry turnId, servedBy, at.
        ...messages.map(({ role, content }) => ({ role, content })),
      ],
    };
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
    };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;

    const signal = AbortSignal.timeout(this.timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal,
      });
      status = response.status;
      // Read the body under the same deadline: a server may send headers and then stall.
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw this.error(`no answer within ${this.timeoutMs} ms`, error);
      throw this.error(`could not reach the model server (${networkDetail(error)})`, error);
    }

    if (status < 200 || status > 299) throw this.error(this.describeStatus(status, text));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw this.error(`malformed response: the body is not JSON (HTTP ${status})`, error);
    }
    const parsed = ChatCompletionSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      throw this.error(`malformed response: ${where}${issue?.message ?? "unexpected shape"}`);
    }
    // min(1) above guarantees a first choice.
    return (parsed.data.choices[0] as { message: { content: string } }).message.content;
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

/** fetch() rejects with `TypeError("fetch failed")`; the useful part is in its cause. */
function networkDetail(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause && typeof cause === "object" && "code" in cause && typeof cause.code === "string") {
    return cause.code;
  }
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
