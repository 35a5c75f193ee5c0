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
 * FIXED: the state key is the canonical one the HTTP layer derived from the verified
 * identity (tenant, user) and the conversation id: the same on every worker and every
 * request, and out of reach of anyone else's token.
 */
export class AgentChatService extends StoredChatService {
  private keyOf(ref: ConversationRef): string {
    return ref.key;
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
