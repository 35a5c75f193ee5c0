import type { Request, RequestHandler, Response } from "express";
import { conversationKey } from "../auth/conversation-key.ts";
import {
  type ChatService,
  type ConversationRef,
  type HistoryPage,
  type HistoryPageRequest,
  historyPageOf,
} from "../chat/chat-service.ts";
import type { AppConfig } from "../config.ts";
import type { MessagesPageResponse, MessagesResponse, ServedBy } from "../contract.ts";
import { identityOf } from "./auth-middleware.ts";
import { parseConversationHeaders, parseMessagesRequest } from "./schemas.ts";

interface MessagesRouteOptions {
  service: ChatService;
  config: AppConfig;
  servedBy: ServedBy;
}

/**
 * `GET /conversations/:id/messages` after authentication: the whole history, or with
 * `?limit=N` its newest N messages, and with `&before=<that page's before>` the N before them.
 */
export function messagesRoute(options: MessagesRouteOptions): RequestHandler {
  const { service, config, servedBy } = options;
  return async (req, res) => {
    const { conversationId, page } = parseMessagesRequest(req);
    const ref = conversationRef(req, res, config, conversationId);
    if (!page) {
      const body: MessagesResponse = {
        conversationId,
        messages: await service.history(ref),
        servedBy,
      };
      res.json(body);
      return;
    }
    const { messages, before } = await readPage(service, ref, page);
    const body: MessagesPageResponse = {
      conversationId,
      messages,
      before: before === null ? null : String(before),
      servedBy,
    };
    res.json(body);
  };
}

function conversationRef(
  req: Request,
  res: Response,
  config: AppConfig,
  conversationId: string,
): ConversationRef {
  const headers = parseConversationHeaders(req);
  return {
    key: conversationKey(config.REDIS_KEY_PREFIX, identityOf(res), conversationId),
    conversationId,
    sessionHeader: headers["x-session"],
  };
}

/** The service's own bounded read when it has one; otherwise the page cut from the whole history. */
async function readPage(
  service: ChatService,
  ref: ConversationRef,
  page: HistoryPageRequest,
): Promise<HistoryPage> {
  if (service.historyPage) return service.historyPage(ref, page);
  return historyPageOf(await service.history(ref), page);
}
