import {
  Agent,
  type AgentInputItem,
  type Model,
  type ModelRequest,
  type ModelResponse,
  Runner,
  type StreamEvent,
  Usage,
} from "@openai/agents-core";
import type { Turn, TurnResult } from "../service/chat/chat-service.ts";
import type { ChatMessage, ServedBy } from "../service/contract.ts";
import {
  type AgentMessage,
  type AssistantAgent,
  DEFAULT_SYSTEM_MESSAGE,
} from "../service/model/agent.ts";

/**
 * The OpenAI Agents SDK side of the openai-agents scenario, shared by its broken and fixed
 * variants so that their diff is the session: an `Agent` whose model is this sandbox's
 * agent (the scripted model, or AGENT_MODEL=openai), run by a `Runner` without tracing, so
 * nothing leaves the machine.
 */

/** What an item of the session carries besides its text, for the HTTP contract's messages. */
interface TurnTag {
  turnId: string;
  servedBy: ServedBy;
  at: string;
}

/**
 * The SDK's `Model`, answered by the sandbox's agent from the last `contextWindow` items
 * before the newest (as every app here is). The reply carries the newest item's tag; a
 * streamed turn's pieces go to `onDelta` as the agent writes them.
 */
class SandboxModel implements Model {
  constructor(
    private readonly agent: AssistantAgent,
    private readonly contextWindow: number,
    private readonly onDelta?: (text: string) => void,
  ) {}

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const input = typeof request.input === "string" ? [userText(request.input)] : request.input;
    const window = input.slice(-(this.contextWindow + 1));
    const reply = await this.agent.generateReply(window.flatMap(agentMessageOf), this.onDelta);
    const output: AgentInputItem = {
      type: "message",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: reply }],
      providerData: { ...tagOf(input.at(-1)) },
    };
    return { usage: new Usage(), output: [output] };
  }

  getStreamedResponse(): AsyncIterable<StreamEvent> {
    throw new Error("the sandbox's agent answers whole replies: run it without stream");
  }
}

/**
 * The runner one worker uses for every conversation, and the SDK agent of one turn (its model
 * streams that turn's reply): runtime objects, no conversation state.
 */
export function sandboxAgent(assistant: AssistantAgent, contextWindow: number) {
  const agentFor = (turn: Turn) => {
    const model = new SandboxModel(assistant, contextWindow, turn.onDelta);
    return new Agent({ name: assistant.name, instructions: DEFAULT_SYSTEM_MESSAGE, model });
  };
  return { agentFor, runner: new Runner({ tracingDisabled: true }) };
}

/** The turn's input: its user message, tagged with its turn. */
export function userItem(turn: Turn): AgentInputItem {
  const tag: TurnTag = {
    turnId: turn.turnId,
    servedBy: turn.servedBy,
    at: new Date().toISOString(),
  };
  return { role: "user", content: turn.text, providerData: { ...tag } };
}

/** What a turn reports: the run's final output, and `before`, the session's length it read. */
export function turnResultOf(
  finalOutput: unknown,
  before: number,
  contextWindow: number,
): TurnResult {
  const reply = typeof finalOutput === "string" ? finalOutput : "";
  return { reply, messagesSeen: Math.min(before, contextWindow) + 1, before, after: before + 2 };
}

/** The session's items as the HTTP contract shows them: user and assistant messages. */
export function chatMessagesOf(items: readonly AgentInputItem[]): ChatMessage[] {
  return items.flatMap((item) => {
    const [message] = agentMessageOf(item);
    return message ? [{ ...message, ...tagOf(item) }] : [];
  });
}

function userText(text: string): AgentInputItem {
  return { role: "user", content: text };
}

/** A user or assistant message item as the model client's message; other items: none. */
function agentMessageOf(item: AgentInputItem): AgentMessage[] {
  if (!("role" in item) || (item.role !== "user" && item.role !== "assistant")) return [];
  const { content } = item;
  if (typeof content === "string") return [{ role: item.role, content }];
  const text = content.map((part) => ("text" in part ? part.text : "")).join("");
  return [{ role: item.role, content: text }];
}

function tagOf(item: AgentInputItem | undefined): TurnTag {
  const { turnId, servedBy, at } = ((item && "providerData" in item ? item.providerData : {}) ??
    {}) as Partial<TurnTag>;
  return {
    turnId: turnId ?? "",
    servedBy: servedBy ?? { workerId: 0, pid: 0, hostname: "" },
    at: at ?? new Date(0).toISOString(),
  };
}
