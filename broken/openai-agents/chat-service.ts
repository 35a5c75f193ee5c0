import { MemorySession } from "@openai/agents-core";
import {
  chatMessagesOf,
  sandboxAgent,
  turnResultOf,
  userItem,
} from "../../scenarios/agents-sdk-agent.ts";
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
 * BROKEN: each conversation's session is a MemorySession, the one the Agents SDK's docs show
 * first ("intended for demos or tests"), kept in a Map in this worker's memory. Each cluster
 * worker has its own sessions, so a conversation whose turns land on different workers is
 * split between them, and the agent forgets.
 */
export class AgentChatService implements ChatService {
  readonly backend = "memory";
  private readonly sdk: ReturnType<typeof sandboxAgent>;
  private readonly sessions = new Map<string, MemorySession>();
  private readonly contextWindow: number;

  constructor(deps: ServiceDeps) {
    this.contextWindow = deps.config.CONTEXT_WINDOW_MESSAGES;
    this.sdk = sandboxAgent(new AssistantAgent("assistant", deps.config), this.contextWindow);
  }

  async handleTurn(turn: Turn): Promise<TurnResult> {
    const session = this.sessionOf(turn.key);
    const before = (await session.getItems()).length;
    const result = await this.sdk.runner.run(this.sdk.agentFor(turn), [userItem(turn)], {
      session,
    });
    return turnResultOf(result.finalOutput, before, this.contextWindow);
  }

  async history(ref: ConversationRef): Promise<ChatMessage[]> {
    return chatMessagesOf((await this.sessions.get(ref.key)?.getItems()) ?? []);
  }

  async storeReachable(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}

  private sessionOf(key: string): MemorySession {
    let session = this.sessions.get(key);
    if (!session) {
      session = new MemorySession({ sessionId: key });
      this.sessions.set(key, session);
    }
    return session;
  }
}
