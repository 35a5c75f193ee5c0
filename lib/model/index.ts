export { createModelClient } from "./create-model-client.ts";
export {
  type AgentMessage,
  type CompleteOptions,
  DEFAULT_MODEL_TIMEOUT_MS,
  type ModelClient,
  type ModelConfig,
} from "./model-client.ts";
export { OpenAICompatibleModel, type OpenAICompatibleOptions } from "./openai-compatible.ts";
export { ScriptedModel } from "./scripted-model.ts";
