import { randomUUID } from "node:crypto";
import express, { type Express } from "express";
import type { ChatService } from "../chat-service.ts";
import type { AppConfig } from "../config.ts";
import { HttpError } from "../errors.ts";
import { conversationKey } from "../keys.ts";
import { logger } from "../logger.ts";
import { currentServedBy } from "../served-by.ts";
import type {
  AppName,
  HealthResponse,
  MessagesResponse,
  ServedBy,
  TurnResponse,
} from "../types.ts";
import { identityOf, requireIdentity } from "./auth-middleware.ts";
import { errorHandler } from "./error-handler.ts";
import { ConversationParams, describeIssues, TurnBody } from "./schemas.ts";

export interface AppOptions {
  app: AppName;
  scenario: string;
  service: ChatService;
  config: AppConfig;
  servedBy?: ServedBy;
}

/** The HTTP contract both apps share; only `service` differs between broken and fixed. */
export function createApp({ app, scenario, service, config, servedBy }: AppOptions): Express {
  const served = servedBy ?? currentServedBy();
  const web = express();
  web.disable("x-powered-by");

  web.use((_req, res, next) => {
    res.set("X-Worker-Id", String(served.workerId));
    res.set("X-Worker-Pid", String(served.pid));
    next();
  });

  web.get("/healthz", async (_req, res) => {
    const body: HealthResponse = {
      ok: true,
      app,
      scenario,
      store: { backend: service.backend, reachable: await service.storeReachable() },
      servedBy: served,
    };
    res.json(body);
  });

  const conversations = express.Router();
  conversations.use(requireIdentity(config.authSecret));

  conversations.post(
    "/:conversationId/turns",
    express.json({ limit: config.BODY_LIMIT }),
    async (req, res) => {
      const { conversationId } = parseParams(req.params);
      const parsed = TurnBody.safeParse(req.body);
      if (!parsed.success) throw new HttpError(400, "invalid_body", describeIssues(parsed.error));
      const key = conversationKey(config.REDIS_KEY_PREFIX, identityOf(res), conversationId);
      const turnId = parsed.data.turnId ?? randomUUID();
      const result = await service.handleTurn({
        key,
        conversationId,
        sessionHeader: req.get("x-session"),
        turnId,
        text: parsed.data.text,
        servedBy: served,
      });
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
      const body: TurnResponse = {
        conversationId,
        turnId,
        reply: result.reply,
        messagesSeen: result.messagesSeen,
        servedBy: served,
      };
      res.json(body);
    },
  );

  conversations.get("/:conversationId/messages", async (req, res) => {
    const { conversationId } = parseParams(req.params);
    const key = conversationKey(config.REDIS_KEY_PREFIX, identityOf(res), conversationId);
    const body: MessagesResponse = {
      conversationId,
      messages: await service.history({ key, conversationId, sessionHeader: req.get("x-session") }),
      servedBy: served,
    };
    res.json(body);
  });

  web.use("/conversations", conversations);

  web.use((req) => {
    throw new HttpError(404, "not_found", `no route for ${req.method} ${req.path}`);
  });
  web.use(errorHandler);
  return web;
}

function parseParams(params: unknown) {
  const parsed = ConversationParams.safeParse(params);
  if (!parsed.success) throw new HttpError(400, "invalid_params", describeIssues(parsed.error));
  return parsed.data;
}
