import { setTimeout as sleep } from "node:timers/promises";

/** The settings an agent reads (a subset of AppConfig). */
export interface AgentConfig {
  /** Simulated model latency per reply, in ms. */
  AGENT_LATENCY_MS: number;
}

/** What the agent is given: the shape of a chat-completion message list. */
export interface AgentMessage {
  role: "user" | "assistant";
  content: string;
}

/**
 * A deterministic stand-in for AutoGen's LLM-backed `AssistantAgent`: no network, no key.
 * Its reply says what it remembers (how many earlier user messages, and the first one),
 * so a transcript shows at a glance when the agent was handed a partial history.
 * Like the real one it is a runtime object: it holds no conversation state.
 */
export class AssistantAgent {
  private readonly latencyMs: number;

  constructor(
    readonly name: string,
    config: AgentConfig,
  ) {
    this.latencyMs = config.AGENT_LATENCY_MS;
  }

  async generateReply(messages: readonly AgentMessage[]): Promise<string> {
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const userMessages = messages.filter((m) => m.role === "user");
    const current = userMessages.at(-1);
    if (!current) return "Hello! What can I do for you?";
    const earlier = userMessages.length - 1;
    if (earlier === 0) {
      return `You said "${current.content}". I remember no earlier message from you.`;
    }
    const first = userMessages[0]?.content ?? "";
    return `You said "${current.content}". I remember ${earlier} earlier message(s) from you; the first was "${first}".`;
  }
}
