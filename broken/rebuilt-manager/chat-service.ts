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
 * BROKEN: a new GroupChat, with an empty message list, and a new GroupChatManager on
 * every request. The turns are saved, but the manager never sees them: each turn starts
 * from zero, and the same agent always speaks. Broken even with one worker.
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
    const groupChat = new GroupChat<ChatMessage>(this.agents, []);
    const manager = new GroupChatManager(groupChat);
    const before = groupChat.messages.length;
    const seen = groupChat.messages.length;
    const user = userMessage(turn);
    const { reply } = await manager.step(user, turn.onDelta);
    const after = await store.append(turn.key, [user, assistantMessage(turn, reply)]);
    return { reply, messagesSeen: seen + 1, before, after };
  }
}
