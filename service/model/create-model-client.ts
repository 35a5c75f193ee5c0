import type { ModelClient, ModelConfig } from "./model-client.ts";
import { OpenAICompatibleModel } from "./openai-compatible.ts";
import { ScriptedModel } from "./scripted-model.ts";

/**
 * Picks the model from configuration: `AGENT_MODEL=scripted` (the default) is the
 * deterministic stand-in; `AGENT_MODEL=openai` talks to `MODEL_BASE_URL` as `MODEL_NAME`.
 * loadConfig() already rejects an incomplete `openai` setup at startup; this checks again
 * for callers that build a config by hand.
 */
export function createModelClient(config: ModelConfig): ModelClient {
  const kind = config.AGENT_MODEL ?? "scripted";
  if (kind === "scripted") {
    return new ScriptedModel(config.AGENT_LATENCY_MS, config.AGENT_CHUNK_DELAY_MS ?? 0);
  }
  const { MODEL_BASE_URL: baseUrl, MODEL_NAME: model } = config;
  if (!baseUrl || !model) {
    const missing = [!baseUrl && "MODEL_BASE_URL", !model && "MODEL_NAME"].filter(Boolean);
    throw new Error(
      `AGENT_MODEL=openai needs ${missing.join(" and ")} (e.g. MODEL_BASE_URL=http://127.0.0.1:11434/v1 MODEL_NAME=llama3.2)`,
    );
  }
  return new OpenAICompatibleModel({
    baseUrl,
    model,
    apiKey: config.MODEL_API_KEY || undefined,
    timeoutMs: config.MODEL_TIMEOUT_MS,
  });
}
