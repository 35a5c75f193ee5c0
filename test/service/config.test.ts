import { describe, expect, it } from "vitest";
import { DEV_AUTH_SECRET, loadConfig, MIN_PRODUCTION_SECRET_BYTES } from "../../service/config.ts";
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

describe("the token secret", () => {
  const strong = "s".repeat(MIN_PRODUCTION_SECRET_BYTES);

  it("outside production falls back to the development default, with nothing to rotate", () => {
    const config = loadConfig({});
    expect(config.authSecret).toBe(DEV_AUTH_SECRET);
    expect(config.verificationSecrets).toEqual([DEV_AUTH_SECRET]);
  });

  it("in production refuses a missing, short or development secret and says how to make one", () => {
    for (const AUTH_SECRET of [
      undefined,
      "s".repeat(MIN_PRODUCTION_SECRET_BYTES - 1),
      DEV_AUTH_SECRET,
    ]) {
      expect(() => loadConfig({ NODE_ENV: "production", AUTH_SECRET })).toThrow(
        /AUTH_SECRET: (required|too weak) when NODE_ENV=production .*randomBytes\(32\)/,
      );
    }
  });

  it("counts bytes, not characters: 16 two-byte characters are 32 bytes", () => {
    expect(loadConfig({ NODE_ENV: "production", AUTH_SECRET: "é".repeat(16) }).authSecret).toBe(
      "é".repeat(16),
    );
  });

  it("in production accepts a strong secret and a strong previous one, current first", () => {
    const previous = "p".repeat(40);
    const config = loadConfig({
      NODE_ENV: "production",
      AUTH_SECRET: strong,
      AUTH_SECRET_PREVIOUS: previous,
    });
    expect(config.authSecret).toBe(strong);
    expect(config.verificationSecrets).toEqual([strong, previous]);
  });

  it("in production refuses a weak previous secret too", () => {
    expect(() =>
      loadConfig({ NODE_ENV: "production", AUTH_SECRET: strong, AUTH_SECRET_PREVIOUS: "old" }),
    ).toThrow(/AUTH_SECRET_PREVIOUS: too weak/);
  });
});

describe("Redis topology configuration", () => {
  it("takes Sentinel's nodes and master name, with mymaster by default and WAIT unset (decided at start)", () => {
    const config = loadConfig({ REDIS_SENTINELS: "127.0.0.1:26379, 10.0.0.2:26380" });
    expect(config.REDIS_SENTINEL_NAME).toBe("mymaster");
    expect(config.REDIS_WAIT_REPLICAS).toBeUndefined();
    expect(config.REDIS_WAIT_MS).toBe(500);
  });

  it("refuses a malformed node list, Sentinel and Cluster together, and a WAIT longer than the command timeout", () => {
    expect(() => loadConfig({ REDIS_SENTINELS: "127.0.0.1" })).toThrow(
      /REDIS_SENTINELS: "127.0.0.1" is not host:port/,
    );
    expect(() =>
      loadConfig({ REDIS_SENTINELS: "127.0.0.1:26379", REDIS_CLUSTER_NODES: "127.0.0.1:7000" }),
    ).toThrow(/set either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both/);
    // WAIT must answer before the client's 1 s command timeout, or a confirmed write would be
    // reported as a timeout.
    expect(() => loadConfig({ REDIS_WAIT_MS: "1000" })).toThrow(/REDIS_WAIT_MS/);
    expect(() => loadConfig({ REDIS_WAIT_REPLICAS: "-1" })).toThrow(/REDIS_WAIT_REPLICAS/);
  });
});
