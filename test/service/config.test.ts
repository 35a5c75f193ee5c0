import { describe, expect, it } from "vitest";
import { loadConfig } from "../../service/config.ts";
import { AssistantAgent } from "../../service/model/agent.ts";
import { createModelClient } from "../../service/model/create-model-client.ts";
import { OpenAICompatibleModel } from "../../service/model/openai-compatible.ts";
import { ScriptedModel } from "../../service/model/scripted-model.ts";

describe("model configuration", () => {
  it("defaults to the scripted model with a 30 s timeout", () => {
    const config = loadConfig({});
    expect(config.AGENT_MODEL).toBe("scripted");
    expect(config.MODEL_TIMEOUT_MS).toBe(30_000);
    expect(createModelClient(config)).toBeInstanceOf(ScriptedModel);
    expect(new AssistantAgent("assistant", config).model).toBeInstanceOf(ScriptedModel);
  });

  it("refuses AGENT_MODEL=openai without MODEL_BASE_URL and MODEL_NAME, naming both", () => {
    expect(() => loadConfig({ AGENT_MODEL: "openai" })).toThrow(
      /invalid environment: MODEL_BASE_URL: required when AGENT_MODEL=openai .*; MODEL_NAME: required when AGENT_MODEL=openai/,
    );
    expect(() =>
      loadConfig({ AGENT_MODEL: "openai", MODEL_BASE_URL: "http://127.0.0.1:11434/v1" }),
    ).toThrow(/^invalid environment: MODEL_NAME: required when AGENT_MODEL=openai/);
    expect(() => loadConfig({ AGENT_MODEL: "openai", MODEL_NAME: "llama3.2" })).toThrow(
      /^invalid environment: MODEL_BASE_URL: required when AGENT_MODEL=openai/,
    );
  });

  it("rejects an unknown AGENT_MODEL, a non-http MODEL_BASE_URL and a bad timeout", () => {
    expect(() => loadConfig({ AGENT_MODEL: "gpt" })).toThrow(/AGENT_MODEL/);
    expect(() =>
      loadConfig({ AGENT_MODEL: "openai", MODEL_BASE_URL: "ftp://x", MODEL_NAME: "m" }),
    ).toThrow(/MODEL_BASE_URL/);
    expect(() => loadConfig({ MODEL_TIMEOUT_MS: "0" })).toThrow(/MODEL_TIMEOUT_MS/);
  });

  it("builds an OpenAI-compatible client from a complete openai configuration", () => {
    const config = loadConfig({
      AGENT_MODEL: "openai",
      MODEL_BASE_URL: "http://127.0.0.1:11434/v1",
      MODEL_NAME: "llama3.2",
      MODEL_TIMEOUT_MS: "5000",
    });
    expect(config).toMatchObject({ MODEL_NAME: "llama3.2", MODEL_TIMEOUT_MS: 5000 });
    const client = createModelClient(config);
    expect(client).toBeInstanceOf(OpenAICompatibleModel);
    expect(client.name).toBe("openai-compatible:llama3.2");
  });

  it("also refuses an incomplete openai configuration built by hand", () => {
    expect(() => createModelClient({ AGENT_LATENCY_MS: 0, AGENT_MODEL: "openai" })).toThrow(
      "AGENT_MODEL=openai needs MODEL_BASE_URL and MODEL_NAME",
    );
  });
});
