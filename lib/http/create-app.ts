import { randomUUID } from "node:crypto";
import express, { type Express } from "express";
import type { ChatService } from "../chat-service.ts";
import type { AppConfig } from "../config.ts";
import { HttpError } from "../errors.ts";
import { conversationKey } from "../keys.ts";
import { logger } from "../logger.ts";
import { currentServedBy } from "../served-by.ts";
import type { TurnGate } from "../turns/turn-gate.ts";
import type {
  AppName,
  ChatMessage,
  HealthResponse,
  MessagesResponse,
  ServedBy,
  TurnResponse,
} from "../types.ts";
import { identityOf, requireIdentity } from "./auth-middleware.ts";
import { errorHandler } from "./error-handler.ts";
import { ConversationParams, describeIssues, TURN_ID, TurnBody } from "./schemas.ts";

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

  web.get("/healthz", async (_req, res) => {
    const body: HealthResponse = {
      ok: true,
      app,
      scenario,
      store: { backend: service.backend, reachable: await service.storeReachable() },
      memory: {
        rssBytes: process.memoryUsage.rss(),
        heapUsedBytes: process.memoryUsage().heapUsed,
      },
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
      const turnId = chooseTurnId(parsed.data.turnId, req.get("idempotency-key"));
      const ref = { key, conversationId, sessionHeader: req.get("x-session") };
      const run = () =>
        service.handleTurn({ ...ref, turnId, text: parsed.data.text, servedBy: served });
      const outcome = turnGate
        ? await turnGate.run(key, turnId, run)
        : { ran: true as const, value: await run() };
      if (!outcome.ran) {
        // A repeated turnId that already completed: answer from the stored messages.
        const body = replayed(
          conversationId,
          turnId,
          await service.history(ref),
          served,
          config.CONTEXT_WINDOW_MESSAGES,
        );
        logger.info({ event: "turn_replayed", app, scenario, key, conversationId, turnId });
        res.json(body);
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
      const body: TurnResponse = {
        conversationId,
        turnId,
        reply: result.reply,
        messagesSeen: result.messagesSeen,
        historyLength: result.before,
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

/** The body's turnId, or the Idempotency-Key header as its alias, or a new id. */
function chooseTurnId(fromBody: string | undefined, fromHeader: string | undefined): string {
  if (fromHeader === undefined) return fromBody ?? randomUUID();
  if (!TURN_ID.test(fromHeader)) {
    throw new HttpError(
      400,
      "invalid_headers",
      "Idempotency-Key must be 1-64 characters of A-Z a-z 0-9 _ -",
    );
  }
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

function parseParams(params: unknown) {
  const parsed = ConversationParams.safeParse(params);
  if (!parsed.success) throw new HttpError(400, "invalid_params", describeIssues(parsed.error));
  return parsed.data;
}
