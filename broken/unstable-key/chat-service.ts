import type {
  ConversationRef,
  HistoryPage,
  HistoryPageRequest,
  Turn,
  TurnResult,
} from "../../service/chat/chat-service.ts";
import { StoredChatService } from "../../service/chat/stored-chat-service.ts";
import type { ChatMessage } from "../../service/contract.ts";

/**
 * BROKEN: the state key comes from the client's X-Session header when it sends one, and
 * otherwise from something per worker (the pid). A client that omits the header saves
 * under one key and loads from another; anyone who sends someone's X-Session reads
 * their conversation.
 */
export class AgentChatService extends StoredChatService {
  private keyOf(ref: ConversationRef): string {
    return `${this.keyPrefix}session:${ref.sessionHeader ?? `pid-${process.pid}-${ref.conversationId}`}`;
  }

  override handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {
    return super.handleTurn({ ...turn, key: this.keyOf(turn) }, store);
  }

  override history(ref: ConversationRef): Promise<ChatMessage[]> {
    return super.history({ ...ref, key: this.keyOf(ref) });
  }

  override historyPage(ref: ConversationRef, page: HistoryPageRequest): Promise<HistoryPage> {
    return super.historyPage({ ...ref, key: this.keyOf(ref) }, page);
  }
}
