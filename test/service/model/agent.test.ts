import { describe, expect, it } from "vitest";
import {
  type AgentMessage,
  AssistantAgent,
  DEFAULT_SYSTEM_MESSAGE,
} from "../../../service/model/agent.ts";
import type { CompleteOptions, ModelClient } from "../../../service/model/model-client.ts";
import { ScriptedModel } from "../../../service/model/scripted-model.ts";

const user = (content: string): AgentMessage => ({ role: "user", content });
const assistant = (content: string): AgentMessage => ({ role: "assistant", content });

describe("the scripted AssistantAgent (the default)", () => {
  // Only AGENT_LATENCY_MS, as older callers pass it: the model settings are optional.
  const agent = new AssistantAgent("assistant", { AGENT_LATENCY_MS: 0 });

  it("uses the scripted model when AGENT_MODEL is not set", () => {
    expect(agent.model).toBeInstanceOf(ScriptedModel);
    expect(agent.name).toBe("assistant");
  });

  it("greets when it was given no user message", async () => {
    expect(await agent.generateReply([])).toBe("Hello! What can I do for you?");
  });

  it("says it remembers no earlier message on the first turn", async () => {
    expect(await agent.generateReply([user("Hi, my name is Ada.")])).toBe(
      'You said "Hi, my name is Ada.". I remember no earlier message from you.',
    );
  });

  it("counts the earlier user messages and quotes the first one", async () => {
    const history = [
      user("Hi, my name is Ada."),
      assistant("..."),
      user("I like tea."),
      assistant("..."),
      user("What is my name?"),
    ];
    expect(await agent.generateReply(history)).toBe(
      'You said "What is my name?". I remember 2 earlier messages from you; the first was "Hi, my name is Ada.".',
    );
    expect(await agent.generateReply(history.slice(0, 3))).toBe(
      'You said "I like tea.". I remember 1 earlier message from you; the first was "Hi, my name is Ada.".',
    );
  });

  it("waits AGENT_LATENCY_MS before answering", async () => {
    const slow = new AssistantAgent("assistant", { AGENT_LATENCY_MS: 40 });
    const started = performance.now();
    await slow.generateReply([user("hi")]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
  });
});

describe("AssistantAgent with another model", () => {
  it("hands the model the history and its system message, and returns the model's reply", async () => {
    const calls: { messages: readonly AgentMessage[]; options?: CompleteOptions }[] = [];
    const model: ModelClient = {
      name: "recording",
      async complete(messages, options) {
        calls.push({ messages, options });
        return "from the model";
      },
    };
    const agent = new AssistantAgent("assistant", { AGENT_LATENCY_MS: 0 }, { model });
    const history = [user("a"), assistant("b"), user("c")];
    expect(await agent.generateReply(history)).toBe("from the model");
    expect(calls).toEqual([{ messages: history, options: { system: DEFAULT_SYSTEM_MESSAGE } }]);
  });
});
