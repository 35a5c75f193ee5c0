/** One message of a conversation as a model sees it: the shape of a chat-completion message. */
export interface AgentMessage {
  role: "user" | "assistant";
  content: string;
}

/** Per-call options of {@link ModelClient.complete}. */
export interface CompleteOptions {
  /**
   * Instructions sent ahead of the conversation (a chat-completion `system` message).
   * A model that has no use for them (the scripted one) ignores them.
   */
  system?: string;
  /**
   * Called with each piece of the reply as the model writes it (a streamed turn); the pieces,
   * joined, are the reply `complete` resolves with. Without it the model answers in one piece.
   */
  onDelta?: (text: string) => void;
}

/**
 * An interface that every model behind the agent must implement.
 *
 * A model client is a runtime object, like the agent that uses it: it holds no
 * conversation state. Everything it knows about a conversation is the `messages`
 * it is handed on each call, which is why the chat service must hand it the full
 * history (rehydrated from shared storage in the fixed app).
 */
export interface ModelClient {
  /**
   * A short, human-readable name for logs and error messages (no secrets), for example
   * `scripted` or `openai-compatible:llama3.2`.
   */
  readonly name: string;

  /**
   * Method that asks the model for the next assistant message of a conversation.
   *
   * @param messages {AgentMessage[]} - The conversation so far, oldest first; the last one
   * is usually the user's new message. Only `role` and `content` are read.
   * @param options {CompleteOptions} - Per-call options, such as the system message.
   *
   * @returns {Promise<string>} - The assistant's reply text. Rejects with a `ModelError`
   * (HTTP 502, code `model_error`) when the model cannot give one; nothing else is
   * thrown, so the caller can store nothing and report the failure.
   */
  complete(messages: readonly AgentMessage[], options?: CompleteOptions): Promise<string>;
}

/** The settings a model client reads (a subset of AppConfig; see service/config.ts). */
export interface ModelConfig {
  /** Simulated latency per reply of the scripted model, in ms. */
  AGENT_LATENCY_MS: number;
  /** The scripted model's pause between the chunks of a streamed reply, in ms (default 0). */
  AGENT_CHUNK_DELAY_MS?: number;
  /** Which model answers: the deterministic script (default) or an OpenAI-compatible server. */
  AGENT_MODEL?: "scripted" | "openai";
  /** Base URL of the OpenAI-compatible API, e.g. `http://127.0.0.1:11434/v1` (Ollama). */
  MODEL_BASE_URL?: string;
  /** The model to ask for, e.g. `llama3.2`. */
  MODEL_NAME?: string;
  /** Sent as `Authorization: Bearer <key>` when set. */
  MODEL_API_KEY?: string;
  /** Give up on one completion after this many ms (default 30000). */
  MODEL_TIMEOUT_MS?: number;
}

/** How long an OpenAI-compatible model may take for one reply unless MODEL_TIMEOUT_MS says otherwise. */
export const DEFAULT_MODEL_TIMEOUT_MS = 30_000;
