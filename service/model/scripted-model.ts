import { setTimeout as sleep } from "node:timers/promises";
import type { AgentMessage, CompleteOptions, ModelClient } from "./model-client.ts";

/**
 * The default model: deterministic, no network, no key. Its reply says what it remembers
 * (how many earlier user messages, and the first one), so a transcript shows at a glance
 * when the agent was handed a partial history. The system message is ignored.
 */
export class ScriptedModel implements ModelClient {
  readonly name = "scripted";

  /**
   * @param latencyMs simulated model latency per reply, in ms (0 = answer at once).
   * @param chunkDelayMs a streamed reply's pause between its chunks (its words), in ms.
   */
  constructor(
    private readonly latencyMs = 0,
    private readonly chunkDelayMs = 0,
  ) {}

  async complete(messages: readonly AgentMessage[], options?: CompleteOptions): Promise<string> {
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const reply = this.reply(messages);
    if (options?.onDelta) await this.stream(reply, options.onDelta);
    return reply;
  }

  /** The reply word by word (each with the spaces after it), a pause between two words. */
  private async stream(reply: string, onDelta: (text: string) => void): Promise<void> {
    const words = reply.match(/\S+\s*/g) ?? [reply];
    for (const [i, word] of words.entries()) {
      if (i > 0 && this.chunkDelayMs > 0) await sleep(this.chunkDelayMs);
      onDelta(word);
    }
  }

  private reply(messages: readonly AgentMessage[]): string {
    const userMessages = messages.filter((m) => m.role === "user");
    const current = userMessages.at(-1);
    if (!current) return "Hello! What can I do for you?";
    const earlier = userMessages.length - 1;
    if (earlier === 0) {
      return `You said "${current.content}". I remember no earlier message from you.`;
    }
    const first = userMessages[0]?.content ?? "";
    return `You said "${current.content}". I remember ${earlier === 1 ? "1 earlier message" : `${earlier} earlier messages`} from you; the first was "${first}".`;
  }
}
