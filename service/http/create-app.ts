import express, { type Express } from "express";
import { conversationKey } from "../auth/conversation-key.ts";
import type { ChatService } from "../chat/chat-service.ts";
import type { AppConfig } from "../config.ts";
import type { HealthResponse, MessagesResponse, ServedBy } from "../contract.ts";
import { currentServedBy } from "../served-by.ts";
import type { TurnGate } from "../turns/turn-gate.ts";
import { identityOf, requireIdentity } from "./auth-middleware.ts";
import { errorHandler, methodNotAllowed, notFound } from "./error-handler.ts";
import { parseConversationHeaders, parseConversationRequest } from "./schemas.ts";
import { turnRoute } from "./turn-route.ts";

/** Every path the app serves and its methods; any other method on these paths is a 405. */
const ROUTES = {
  health: { path: "/healthz", allow: ["GET", "HEAD"] },
  turns: { path: "/conversations/:conversationId/turns", allow: ["POST"] },
  messages: { path: "/conversations/:conversationId/messages", allow: ["GET", "HEAD"] },
} as const;

export interface AppOptions {
  /** Names this app in `/healthz` and the logs (the sandbox: broken, fixed, exercise). */
  app: string;
  scenario: string;
  service: ChatService;
  config: AppConfig;
  servedBy?: ServedBy;
  /** One turn per conversation at a time, and idempotent turnIds (the fixed apps on Redis). */
  turnGate?: TurnGate;
}

/** The HTTP contract every app shares; only `service` (and `turnGate`) differ between them. */
export function createApp(options: AppOptions): Express {
  const { service, config } = options;
  const served = options.servedBy ?? currentServedBy(config.HOST_LABEL);
  const authenticate = requireIdentity(config.authSecret);
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
      app: options.app,
      scenario: options.scenario,
      store: { backend: service.backend, reachable: await service.storeReachable() },
      memory: { rssBytes: rss, heapUsedBytes: heapUsed },
      servedBy: served,
    };
    res.json(body);
  });

  // Order matters: authenticate, validate, and only then touch the store.
  web.post(ROUTES.turns.path, authenticate, ...turnRoute({ ...options, servedBy: served }));

  web.get(ROUTES.messages.path, authenticate, async (req, res) => {
    const { conversationId } = parseConversationRequest(req);
    const headers = parseConversationHeaders(req);
    const key = conversationKey(config.REDIS_KEY_PREFIX, identityOf(res), conversationId);
    const ref = { key, conversationId, sessionHeader: headers["x-session"] };
    const body: MessagesResponse = {
      conversationId,
      messages: await service.history(ref),
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
