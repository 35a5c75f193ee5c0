import { AIMessage, type BaseMessage, HumanMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import { Annotation, END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import type { Turn, TurnResult } from "../service/chat/chat-service.ts";
import type { ChatMessage, ServedBy } from "../service/contract.ts";
import type { AgentMessage, AssistantAgent } from "../service/model/agent.ts";

/**
 * The LangGraph side of the langgraph scenario, shared by its broken and fixed variants so
 * that their diff is the checkpointer: a `StateGraph(MessagesAnnotation)` whose one node,
 * "agent", answers the newest message from the thread's recent messages.
 */

/** What a message of the thread carries besides its text, for the HTTP contract's messages. */
interface TurnTag {
  turnId: string;
  servedBy: ServedBy;
  at: string;
}

/** A run's context (LangGraph's, never checkpointed): where a streamed reply's pieces go. */
const TurnContext = Annotation.Root({
  onDelta: Annotation<((text: string) => void) | undefined>,
});

/**
 * The graph, not compiled: START -> agent -> END. The agent is given the last
 * `contextWindow` messages before the newest (as every app here is) and its reply carries the
 * newest message's tag, so each stored message names its turn.
 */
export function agentGraph(agent: AssistantAgent, contextWindow: number) {
  return new StateGraph(MessagesAnnotation, TurnContext)
    .addNode("agent", async (state, runtime) => {
      const newest = state.messages.at(-1);
      const window = state.messages.slice(-(contextWindow + 1));
      const onDelta = runtime.context?.onDelta;
      const reply = await agent.generateReply(window.map(agentMessageOf), onDelta);
      return {
        messages: [new AIMessage({ content: reply, additional_kwargs: { ...tagOf(newest) } })],
      };
    })
    .addEdge(START, "agent")
    .addEdge("agent", END);
}

/** The config that names a conversation's thread: its verified key. */
export function threadOf(key: string): RunnableConfig {
  return { configurable: { thread_id: key } };
}

/** A turn's run: its conversation's thread, and where a streamed reply's pieces go. */
export function runOf(turn: Turn) {
  return { ...threadOf(turn.key), context: { onDelta: turn.onDelta } };
}

/** The turn's user message, tagged with its turn. */
export function humanMessage(turn: Turn): HumanMessage {
  const tag: TurnTag = {
    turnId: turn.turnId,
    servedBy: turn.servedBy,
    at: new Date().toISOString(),
  };
  return new HumanMessage({ content: turn.text, additional_kwargs: { ...tag } });
}

/** What a turn reports, from the thread's messages after it: its user message and the reply last. */
export function turnResultOf(messages: readonly BaseMessage[], contextWindow: number): TurnResult {
  const after = messages.length;
  const before = after - 2;
  const reply = textOf(messages.at(-1));
  return { reply, messagesSeen: Math.min(before, contextWindow) + 1, before, after };
}

/** The thread's messages as the HTTP contract shows them. */
export function chatMessagesOf(messages: readonly BaseMessage[]): ChatMessage[] {
  return messages.map((message) => ({
    role: message.getType() === "human" ? "user" : "assistant",
    content: textOf(message),
    ...tagOf(message),
  }));
}

function agentMessageOf(message: BaseMessage): AgentMessage {
  return { role: message.getType() === "human" ? "user" : "assistant", content: textOf(message) };
}

function tagOf(message: BaseMessage | undefined): TurnTag {
  const { turnId, servedBy, at } = (message?.additional_kwargs ?? {}) as Partial<TurnTag>;
  return {
    turnId: turnId ?? "",
    servedBy: servedBy ?? { workerId: 0, pid: 0, hostname: "" },
    at: at ?? new Date(0).toISOString(),
  };
}

function textOf(message: BaseMessage | undefined): string {
  return typeof message?.content === "string" ? message.content : "";
}

/** A compiled agent graph, whatever its checkpointer. */
export type AgentGraph = ReturnType<ReturnType<typeof agentGraph>["compile"]>;

/** The thread's messages as its newest checkpoint holds them; [] for a thread never written. */
export async function threadMessages(graph: AgentGraph, key: string): Promise<BaseMessage[]> {
  const state = await graph.getState(threadOf(key));
  return (state.values as { messages?: BaseMessage[] }).messages ?? [];
}
