import { StoredChatService } from "../../service/chat/stored-chat-service.ts";

/**
 * FIXED: the shared handleTurn appends only this turn's messages, one atomic step. The fixed
 * apps also run one turn of a conversation at a time across all workers
 * (service/turns/turn-gate.ts), and the append is refused if this turn's lease expired or
 * the history changed since the turn took it.
 */
export class AgentChatService extends StoredChatService {}
