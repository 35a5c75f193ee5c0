import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import express, { type RequestHandler, type Response } from "express";
import { conversationKey } from "../auth/conversation-key.ts";
import type { ChatService, Turn, TurnResult } from "../chat/chat-service.ts";
import type { AppConfig } from "../config.ts";
import type { ServedBy } from "../contract.ts";
import { logger } from "../logger.ts";
import type { ServiceMetrics } from "../metrics/service-metrics.ts";
import type { TurnStreams } from "../streams/turn-streams.ts";
import type { GateOutcome, TurnGate } from "../turns/turn-gate.ts";
import { identityOf } from "./auth-middleware.ts";
import { noteAnswer } from "./count-turns.ts";
import { HttpError } from "./http-error.ts";
import {
  parseConversationHeaders,
  parseConversationRequest,
  parseTurnBody,
  requireJsonContentType,
  turnBodySchema,
  wantsEventStream,
} from "./schemas.ts";
import { answerStreamedTurn } from "./streamed-turn.ts";
import { answerOf, replayed } from "./turn-answer.ts";

interface TurnRouteOptions {
  app: string;
  scenario: string;
  service: ChatService;
  config: AppConfig;
  servedBy: ServedBy;
  turnGate?: TurnGate;
  /** Where streamed turns' events live; without it a turn is always answered as JSON. */
  turnStreams?: TurnStreams;
  /** Checked once the request is known to be valid, so a refused request costs no quota. */
  rateLimit?: RequestHandler;
  metrics: ServiceMetrics;
}

type TurnBody = ReturnType<typeof parseTurnBody>;

/** A turn request's conversation id and headers, validated before its body is read. */
interface TurnTarget {
  conversationId: string;
  headers: ReturnType<typeof parseConversationHeaders>;
}

/**
 * `POST /conversations/:id/turns` after authentication: validate the target, read and
 * validate the body, apply the rate limit, run the turn (under its lease when the app has a
 * turn gate), log it, answer.
 */
export function turnRoute(options: TurnRouteOptions): RequestHandler[] {
  const { config, servedBy, metrics } = options;
  const turnBody = turnBodySchema(config.TEXT_MAX_CHARS);

  const validateTurnBody: RequestHandler = (req, res, next) => {
    res.locals.turnBody = parseTurnBody(turnBody, req.body);
    next();
  };

  const handleTurn: RequestHandler = async (req, res) => {
    const turn = turnOf(res, config, servedBy);
    const streams = wantsEventStream(req) ? options.turnStreams : undefined;
    const contextWindow = config.CONTEXT_WINDOW_MESSAGES;
    const outcome = streams
      ? await answerStreamedTurn(res, turn, { ...options, streams, contextWindow })
      : await answerTurn(res, turn, options);
    if (outcome.waitedMs !== undefined) metrics.leaseWaited(outcome.waitedMs / 1000);
    if (outcome.ran) logTurn(options, turn, outcome.value);
  };

  const checks = [validateTurnTarget, readJsonBody(config.BODY_LIMIT), validateTurnBody];
  return [...checks, ...(options.rateLimit ? [options.rateLimit] : []), handleTurn];
}

/** The turn a valid request asks for, its key from the verified identity. */
function turnOf(res: Response, config: AppConfig, servedBy: ServedBy): Turn {
  const { conversationId, headers } = res.locals.turnTarget as TurnTarget;
  const body = res.locals.turnBody as TurnBody;
  return {
    key: conversationKey(config.REDIS_KEY_PREFIX, identityOf(res), conversationId),
    conversationId,
    sessionHeader: headers["x-session"],
    turnId: chooseTurnId(body.turnId, headers["idempotency-key"]),
    text: body.text,
    servedBy,
  };
}

/** Runs the turn and answers it as JSON: its result, or a repeated turnId's stored answer. */
async function answerTurn(res: Response, turn: Turn, options: TurnRouteOptions) {
  const { service, turnGate, config } = options;
  const outcome = await runTurn(service, turnGate, turn);
  if (outcome.ran) {
    res.json(answerOf(turn, outcome.value));
    return outcome;
  }
  // A repeated turnId that already completed: answer from the stored messages.
  const messages = await service.history(turn);
  logger.info({ event: "turn_replayed", ...logContext(options, turn) });
  noteAnswer(res, { replayed: true });
  res.json(replayed(turn, messages, config.CONTEXT_WINDOW_MESSAGES));
  return outcome;
}

/** What the gate says, or (without a gate, so without a lease to wait for) that the turn ran. */
type RunOutcome = GateOutcome<TurnResult> | { ran: true; value: TurnResult; waitedMs?: undefined };

/** Runs the turn under its conversation's lease when there is a gate, else straight. */
async function runTurn(
  service: ChatService,
  gate: TurnGate | undefined,
  turn: Turn,
): Promise<RunOutcome> {
  if (!gate) return { ran: true, value: await service.handleTurn(turn) };
  return gate.run(turn.key, turn.turnId, (store) => service.handleTurn(turn, store));
}

/** Checked before the body is read: a request refused anyway is not parsed. */
const validateTurnTarget: RequestHandler = (req, res, next) => {
  const target: TurnTarget = {
    ...parseConversationRequest(req),
    headers: parseConversationHeaders(req),
  };
  requireJsonContentType(req);
  res.locals.turnTarget = target;
  next();
};

function readJsonBody(limit: string): RequestHandler {
  return express.json({
    limit,
    // Any JSON value is parsed, so a non-object is a clear invalid_body rather than invalid_json.
    strict: false,
    // The content type was already checked; compressed bodies are refused (415).
    type: () => true,
    inflate: false,
    verify: (_req, _res, raw) => {
      if (!isUtf8(raw)) throw new HttpError(400, "invalid_json", "request body is not valid UTF-8");
    },
  });
}

/** The body's turnId, or the Idempotency-Key header (already validated) as its alias, or a new id. */
function chooseTurnId(fromBody: string | undefined, fromHeader: string | undefined): string {
  if (fromHeader === undefined) return fromBody ?? randomUUID();
  if (fromBody !== undefined && fromBody !== fromHeader) {
    throw new HttpError(400, "invalid_body", "turnId and Idempotency-Key differ");
  }
  return fromHeader;
}

function logContext({ app, scenario }: TurnRouteOptions, turn: Turn) {
  return { app, scenario, key: turn.key, conversationId: turn.conversationId, turnId: turn.turnId };
}

/** The article's debugging advice, built in: key, worker, counts, backend on every turn. */
function logTurn(options: TurnRouteOptions, turn: Turn, result: TurnResult): void {
  const { workerId, pid, hostname } = turn.servedBy;
  logger.info({
    event: "turn",
    ...logContext(options, turn),
    key: result.key ?? turn.key,
    workerId,
    pid,
    hostname,
    backend: options.service.backend,
    messagesBefore: result.before,
    messagesAfter: result.after,
    messagesSeen: result.messagesSeen,
  });
}
