import { StoredChatService } from "../../service/chat/stored-chat-service.ts";

/**
 * FIXED: the shared handleTurn awaits the append before answering, so when the client sees
 * the reply the turn is stored, and the next turn, on any worker, reads it.
 * (STORE_WRITE_DELAY_MS makes the write take a fixed time: this variant just waits for it.)
 */
export class AgentChatService extends StoredChatService {}
