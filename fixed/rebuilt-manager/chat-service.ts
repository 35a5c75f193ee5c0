import { GroupChat, GroupChatManager } from "../../scenarios/group-chat.ts";
import {
  assistantMessage,
  type ServiceDeps,
  type Turn,
  type TurnResult,
  userMessage,
} from "../../service/chat/chat-service.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";
import type { ChatMessage } from "../../service/contract.ts";
import { AssistantAgent } from "../../service/model/agent.ts";

/**
 * FIXED: the GroupChat and its manager are still built per request (they are runtime
 * objects), but from the conversation's stored messages (its recent context window), so
 * every agent sees the conversation and speakers take turns as it goes on.
 */
export class AgentChatService extends StoredChatService {
  private readonly agents: AssistantAgent[];

  constructor(deps: ServiceDeps) {
    super(deps);
    this.agents = ["planner", "researcher", "writer"].map(
      (n) => new AssistantAgent(n, deps.config),
    );
  }

  override async handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {
    const { messages, length: before } = await store.loadRecent(turn.key, this.contextWindow);
    const groupChat = new GroupChat<ChatMessage>(this.agents, messages);
    const manager = new GroupChatManager(groupChat);
    const seen = groupChat.messages.length;
    const user = userMessage(turn);
    const { reply } = await manager.step(user, turn.onDelta);
    const after = await store.append(turn.key, [user, assistantMessage(turn, reply)]);
    return { reply, messagesSeen: seen + 1, before, after };
  }
}
