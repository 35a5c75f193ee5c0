import { createModelClient } from "./create-model-client.ts";
import type { AgentMessage, ModelClient, ModelConfig } from "./model-client.ts";

export type { AgentMessage } from "./model-client.ts";

/**
 * The settings an agent reads (a subset of AppConfig): `AGENT_LATENCY_MS` for the scripted
 * model, and the optional model settings `AGENT_MODEL`, `MODEL_BASE_URL`, `MODEL_NAME`,
 * `MODEL_API_KEY`, `MODEL_TIMEOUT_MS`. Without `AGENT_MODEL` the agent is the scripted one,
 * so `{ AGENT_LATENCY_MS: 5 }` is a complete config.
 */
export type AgentConfig = ModelConfig;

/** Optional extras, mostly for tests: a model to use instead of the configured one. */
export interface AgentOptions {
  /** Use this model instead of the one `createModelClient(config)` picks. */
  model?: ModelClient;
  /** The system message sent ahead of the conversation (ignored by the scripted model). */
  systemMessage?: string;
}

/** Like AutoGen's default, short: the model answers the last message with the rest as context. */
export const DEFAULT_SYSTEM_MESSAGE =
  "You are a helpful AI assistant. Answer the user's latest message; the earlier messages " +
  "of this conversation are your memory of it.";

/**
 * A stand-in for AutoGen's LLM-backed `AssistantAgent`. By default its model is the
 * deterministic script (no network, no key): its reply says what it remembers (how many
 * earlier user messages, and the first one), so a transcript shows at a glance when the
 * agent was handed a partial history. With `AGENT_MODEL=openai` a real model answers
 * (see service/model/). Like the real one it is a runtime object: it holds no conversation
 * state; everything it knows is the history it is handed on each call.
 */
export class AssistantAgent {
  readonly model: ModelClient;
  private readonly systemMessage: string;

  constructor(
    readonly name: string,
    config: AgentConfig,
    options: AgentOptions = {},
  ) {
    this.model = options.model ?? createModelClient(config);
    this.systemMessage = options.systemMessage ?? DEFAULT_SYSTEM_MESSAGE;
  }

  /**
   * The next assistant message for `messages`; rejects with `ModelError` (502) if the model
   * fails. With `onDelta` (a streamed turn) each piece of the reply goes there as it is written.
   */
  async generateReply(
    messages: readonly AgentMessage[],
    onDelta?: (text: string) => void,
  ): Promise<string> {
    return this.model.complete(messages, { system: this.systemMessage, onDelta });
  }
}
