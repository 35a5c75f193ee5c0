import {
  assistantMessage,
  type Turn,
  type TurnResult,
  userMessage,
} from "../../service/chat/chat-service.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";

/**
 * BROKEN: the article's own fix: load the whole history, give it all to the agent, save
 * the whole history back. Right one turn at a time; when turns of one conversation overlap,
 * each loads the same history and the last save overwrites the others' turns (a lost update).
 */
export class AgentChatService extends StoredChatService {
  override async handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {
    const messages = await store.load(turn.key);
    const before = messages.length;
    const user = userMessage(turn);
    messages.push(user);
    const reply = await this.assistant.generateReply(messages, turn.onDelta);
    const answer = assistantMessage(turn, reply);
    const after = await store.replace(turn.key, [...messages, answer]);
    return { reply, messagesSeen: messages.length, before, after, key: turn.key };
  }
}
