import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import express, { type Express, type RequestHandler } from "express";
import { conversationKey } from "../auth/conversation-key.ts";
import type { ChatService } from "../chat/chat-service.ts";
import type { AppConfig } from "../config.ts";
import type {
  AppName,
  ChatMessage,
  HealthResponse,
  MessagesResponse,
  ServedBy,
  TurnResponse,
} from "../contract.ts";
import { HttpError } from "../errors.ts";
import { logger } from "../logger.ts";
import { currentServedBy } from "../served-by.ts";
import type { TurnGate } from "../turns/turn-gate.ts";
import { identityOf, requireIdentity } from "./auth-middleware.ts";
import { errorHandler, methodNotAllowed, notFound } from "./error-handler.ts";
import {
  parseConversationHeaders,
  parseConversationRequest,
  parseTurnBody,
  requireJsonContentType,
  turnBodySchema,
} from "./schemas.ts";

/** Every path the app serves and its methods; any other method on these paths is a 405. */
const ROUTES = {
  health: { path: "/healthz", allow: ["GET", "HEAD"] },
  turns: { path: "/conversations/:conversationId/turns", allow: ["POST"] },
  messages: { path: "/conversations/:conversationId/messages", allow: ["GET", "HEAD"] },
} as const;

export interface AppOptions {
  app: AppName;
  scenario: string;
  service: ChatService;
  config: AppConfig;
  servedBy?: ServedBy;
  /** One turn per conversation at a time, and idempotent turnIds (fixed apps on Redis). */
  turnGate?: TurnGate;
}

/** The HTTP contract both apps share; only `service` differs between broken and fixed. */
export function createApp({
  app,
  scenario,
  service,
  config,
  servedBy,
  turnGate,
}: AppOptions): Express {
  const served = servedBy ?? currentServedBy();
  const web = express();
  web.disable("x-powered-by");

  web.use((_req, res, next) => {
    res.set("X-Worker-Id", String(served.workerId));
    res.set("X-Worker-Pid", String(served.pid));
    next();
  });

  web.get(ROUTES.health.path, async (_req, res) => {
    const { rss, heapUsed } = process.memoryUsage();
    const body: HealthResponse = {
      ok: true,
      app,
      scenario,
      store: { backend: service.backend, reachable: await service.storeReachable() },
      memory: { rssBytes: rss, heapUsedBytes: heapUsed },
      servedBy: served,
    };
    res.json(body);
  });

  const turnBody = turnBodySchema(config.TEXT_MAX_CHARS);
  const authenticate = requireIdentity(config.authSecret);
  // Checked before the body is read: a request we refuse anyway is not parsed. The handler
  // takes the validated id and headers from res.locals.
  const validateTurnRequest: RequestHandler = (req, res, next) => {
    const target: TurnTarget = {
      ...parseConversationRequest(req),
      headers: parseConversationHeaders(req),
    };
    requireJsonContentType(req);
    res.locals.turnTarget = target;
    next();
  };
  const readJsonBody = express.json({
    limit: config.BODY_LIMIT,
    // Any JSON value is parsed, so a non-object is a clear invalid_body rather than invalid_json.
    strict: false,
    // The content type was already checked; compressed bodies are refused (415).
    type: () => true,
    inflate: false,
    verify: (_req, _res, raw) => {
      if (!isUtf8(raw)) throw new HttpError(400, "invalid_json", "request body is not valid UTF-8");
    },
  });

  // Order matters: authenticate, validate, and only then touch the store.
  web.post(ROUTES.turns.path, authenticate, validateTurnRequest, readJsonBody, async (req, res) => {
    const { conversationId, headers } = res.locals.turnTarget as TurnTarget;
    const body = parseTurnBody(turnBody, req.body);
    const key = conversationKey(config.REDIS_KEY_PREFIX, identityOf(res), conversationId);
    const turnId = chooseTurnId(body.turnId, headers["idempotency-key"]);
    const ref = { key, conversationId, sessionHeader: headers["x-session"] };
    const run = () => service.handleTurn({ ...ref, turnId, text: body.text, servedBy: served });
    const outcome = turnGate
      ? await turnGate.run(key, turnId, run)
      : { ran: true as const, value: await run() };
    if (!outcome.ran) {
      // A repeated turnId that already completed: answer from the stored messages.
      const answer = replayed(
        conversationId,
        turnId,
        await service.history(ref),
        served,
        config.CONTEXT_WINDOW_MESSAGES,
      );
      logger.info({ event: "turn_replayed", app, scenario, key, conversationId, turnId });
      res.json(answer);
      return;
    }
    const result = outcome.value;
    // The article's debugging advice, built in: key, worker, counts, backend on every turn.
    logger.info({
      event: "turn",
      app,
      scenario,
      key: result.key ?? key,
      conversationId,
      turnId,
      workerId: served.workerId,
      pid: served.pid,
      hostname: served.hostname,
      backend: service.backend,
      messagesBefore: result.before,
      messagesAfter: result.after,
      messagesSeen: result.messagesSeen,
    });
    const answer: TurnResponse = {
      conversationId,
      turnId,
      reply: result.reply,
      messagesSeen: result.messagesSeen,
      historyLength: result.before,
      servedBy: served,
    };
    res.json(answer);
  });

  web.get(ROUTES.messages.path, authenticate, async (req, res) => {
    const { conversationId } = parseConversationRequest(req);
    const headers = parseConversationHeaders(req);
    const key = conversationKey(config.REDIS_KEY_PREFIX, identityOf(res), conversationId);
    const body: MessagesResponse = {
      conversationId,
      messages: await service.history({ key, conversationId, sessionHeader: headers["x-session"] }),
      servedBy: served,
    };
    res.json(body);
  });

  // A known path with another method: 405 before authentication (the routes are public).
  for (const route of Object.values(ROUTES)) web.all(route.path, methodNotAllowed(route.allow));
  web.use(notFound);
  web.use(errorHandler);
  return web;
}

/** A turn request's conversation id and headers, validated before its body is read. */
interface TurnTarget {
  conversationId: string;
  headers: ReturnType<typeof parseConversationHeaders>;
}

/** The body's turnId, or the Idempotency-Key header (already validated) as its alias, or a new id. */
function chooseTurnId(fromBody: string | undefined, fromHeader: string | undefined): string {
  if (fromHeader === undefined) return fromBody ?? randomUUID();
  if (fromBody !== undefined && fromBody !== fromHeader) {
    throw new HttpError(400, "invalid_body", "turnId and Idempotency-Key differ");
  }
  return fromHeader;
}

/** The response of a completed turn, rebuilt from its stored messages. */
function replayed(
  conversationId: string,
  turnId: string,
  messages: readonly ChatMessage[],
  servedBy: ServedBy,
  contextWindow: number,
): TurnResponse {
  const position = messages.findIndex((m) => m.turnId === turnId && m.role === "user");
  const answer = messages.find((m) => m.turnId === turnId && m.role === "assistant");
  if (position < 0 || !answer) {
    throw new HttpError(
      409,
      "turn_in_progress",
      "this turn is recorded but its messages are not readable yet",
    );
  }
  return {
    conversationId,
    turnId,
    reply: answer.content,
    // As the first run: its window of the history before it, plus its own message.
    messagesSeen: Math.min(position, contextWindow) + 1,
    historyLength: position,
    servedBy,
    replayed: true,
  };
}
