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
 * objects), but from the conversation's stored messages, so every agent sees the whole
 * conversation and speakers take turns as the conversation goes on.
 */
export class AgentChatService extends StoredChatService {
  private readonly agents: AssistantAgent[];

  constructor(deps: ServiceDeps) {
    super(deps);
    this.agents = ["planner", "researcher", "writer"].map(
      (n) => new AssistantAgent(n, deps.config),
    );
  }

  override async handleTurn(turn: Turn): Promise<TurnResult> {
    const groupChat = new GroupChat<ChatMessage>(this.agents, await this.store.load(turn.key));
    const manager = new GroupChatManager(groupChat);
    const before = groupChat.messages.length;
    const user = userMessage(turn);
    const { reply } = await manager.step(user);
    const after = await this.store.append(turn.key, [user, assistantMessage(turn, reply)]);
    return { reply, messagesSeen: before + 1, before, after };
  }
}
