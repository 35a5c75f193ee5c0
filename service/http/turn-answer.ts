import type { Turn, TurnResult } from "../chat/chat-service.ts";
import type { ChatMessage, TurnResponse } from "../contract.ts";
import { TurnInProgressError } from "../errors.ts";

/** What a turn answers: the JSON body of a 200, and the data of a streamed turn's done event. */
export function answerOf(turn: Turn, result: TurnResult): TurnResponse {
  return {
    conversationId: turn.conversationId,
    turnId: turn.turnId,
    reply: result.reply,
    messagesSeen: result.messagesSeen,
    historyLength: result.before,
    servedBy: turn.servedBy,
  };
}

/** The response of a completed turn, rebuilt from its stored messages. */
export function replayed(
  turn: Turn,
  messages: readonly ChatMessage[],
  contextWindow: number,
): TurnResponse {
  const position = messages.findIndex((m) => m.turnId === turn.turnId && m.role === "user");
  const answer = messages.find((m) => m.turnId === turn.turnId && m.role === "assistant");
  if (position < 0 || !answer) {
    throw new TurnInProgressError("this turn is recorded but its messages are not readable yet");
  }
  return {
    conversationId: turn.conversationId,
    turnId: turn.turnId,
    reply: answer.content,
    // As the first run: its window of the history before it, plus its own message.
    messagesSeen: Math.min(position, contextWindow) + 1,
    historyLength: position,
    servedBy: turn.servedBy,
    replayed: true,
  };
}
