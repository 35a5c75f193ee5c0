import { MemorySaver } from "@langchain/langgraph-checkpoint";
import {
  type AgentGraph,
  agentGraph,
  chatMessagesOf,
  humanMessage,
  runOf,
  threadMessages,
  turnResultOf,
} from "../../scenarios/langgraph-agent.ts";
import type {
  ChatService,
  ConversationRef,
  ServiceDeps,
  Turn,
  TurnResult,
} from "../../service/chat/chat-service.ts";
import type { ChatMessage } from "../../service/contract.ts";
import { AssistantAgent } from "../../service/model/agent.ts";

/**
 * BROKEN: the graph is compiled with MemorySaver, the checkpointer LangGraph's docs show
 * first. It keeps every thread's checkpoints in this worker's memory, so each cluster worker
 * has its own copy of each thread: a conversation whose turns land on different workers is
 * split between them, and the agent forgets.
 */
export class AgentChatService implements ChatService {
  readonly backend = "memory";
  private readonly graph: AgentGraph;
  private readonly contextWindow: number;

  constructor(deps: ServiceDeps) {
    this.contextWindow = deps.config.CONTEXT_WINDOW_MESSAGES;
    const agent = new AssistantAgent("assistant", deps.config);
    const builder = agentGraph(agent, this.contextWindow);
    this.graph = builder.compile({ checkpointer: new MemorySaver() });
  }

  async handleTurn(turn: Turn): Promise<TurnResult> {
    const state = await this.graph.invoke({ messages: [humanMessage(turn)] }, runOf(turn));
    return turnResultOf(state.messages, this.contextWindow);
  }

  async history(ref: ConversationRef): Promise<ChatMessage[]> {
    return chatMessagesOf(await threadMessages(this.graph, ref.key));
  }

  async storeReachable(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
