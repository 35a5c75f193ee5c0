import express, { type Express } from "express";
import type { Store } from "express-rate-limit";
import type { ChatService } from "../chat/chat-service.ts";
import type { AppConfig } from "../config.ts";
import type { HealthResponse, ServedBy } from "../contract.ts";
import { ServiceMetrics } from "../metrics/service-metrics.ts";
import { currentServedBy } from "../served-by.ts";
import type { TurnStreams } from "../streams/turn-streams.ts";
import type { TurnGate } from "../turns/turn-gate.ts";
import { requireIdentity } from "./auth-middleware.ts";
import { countTurns } from "./count-turns.ts";
import { handleErrors, methodNotAllowed, notFound } from "./error-handler.ts";
import { HttpError } from "./http-error.ts";
import { messagesRoute } from "./messages-route.ts";
import { turnStreamRoute } from "./stream-route.ts";
import { turnRateLimit } from "./turn-rate-limit.ts";
import { turnRoute } from "./turn-route.ts";

/** Every path the app serves and its methods; any other method on these paths is a 405. */
const ROUTES = {
  health: { path: "/healthz", allow: ["GET", "HEAD"] },
  turns: { path: "/conversations/:conversationId/turns", allow: ["POST"] },
  messages: { path: "/conversations/:conversationId/messages", allow: ["GET", "HEAD"] },
  stream: { path: "/conversations/:conversationId/turns/:turnId/stream", allow: ["GET"] },
  metrics: { path: "/metrics", allow: ["GET", "HEAD"] },
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
  /**
   * Where streamed turns' events live (`Accept: text/event-stream`, and the stream route).
   * Without it turns are answered as JSON whatever the client accepts, and the stream route is 404.
   */
  turnStreams?: TurnStreams;
  /**
   * Where each user's turns are counted for RATE_LIMIT_TURNS_PER_MINUTE. The limit holds only
   * if every worker and host shares it (RedisTurnLimitStore). Omitted, or a limit of 0: no limit.
   */
  turnLimitStore?: Store;
  /** What `/metrics` serves; a registry of this app's own by default. */
  metrics?: ServiceMetrics;
}

/** The HTTP contract every app shares; only `service` (and `turnGate`) differ between them. */
export function createApp(options: AppOptions): Express {
  const { service, config } = options;
  const served = options.servedBy ?? currentServedBy(config.HOST_LABEL);
  const authenticate = requireIdentity(config.verificationSecrets);
  const metrics = options.metrics ?? new ServiceMetrics({ app: options.app });
  const limit = config.RATE_LIMIT_TURNS_PER_MINUTE;
  const rateLimit =
    options.turnLimitStore && limit > 0 ? turnRateLimit(limit, options.turnLimitStore) : undefined;
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

  // Not behind a token, like /healthz: keep it private at the proxy (see the README).
  web.get(ROUTES.metrics.path, async (_req, res) => {
    const text = await metrics.scrape().catch((error: Error) => {
      throw new HttpError(503, "metrics_unavailable", `metrics unavailable: ${error.message}`);
    });
    res.type(metrics.contentType).send(text);
  });

  // Order matters: count, authenticate, validate, limit, and only then touch the store.
  web.post(
    ROUTES.turns.path,
    countTurns(metrics),
    authenticate,
    ...turnRoute({ ...options, servedBy: served, rateLimit, metrics }),
  );

  web.get(ROUTES.messages.path, authenticate, messagesRoute({ ...options, servedBy: served }));
  if (options.turnStreams) {
    const streams = options.turnStreams;
    web.get(ROUTES.stream.path, authenticate, turnStreamRoute({ config, streams }));
  }

  // A known path with another method: 405 before authentication (the routes are public).
  const routes = Object.values(ROUTES).filter((r) => r !== ROUTES.stream || options.turnStreams);
  for (const route of routes) web.all(route.path, methodNotAllowed(route.allow));
  web.use(notFound);
  web.use(handleErrors(metrics));
  return web;
}
