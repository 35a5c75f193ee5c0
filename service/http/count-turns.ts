import type { RequestHandler, Response } from "express";
import { type ServiceMetrics, turnOutcome } from "../metrics/service-metrics.ts";

/**
 * What a turn request's handlers leave for its count: the error code its answer carries
 * (set by the error handler) and whether it was answered from stored messages.
 */
export interface TurnAnswerNotes {
  errorCode?: string;
  replayed?: boolean;
}

export function noteAnswer(res: Response, notes: TurnAnswerNotes): void {
  Object.assign(res.locals, { turnAnswer: { ...res.locals.turnAnswer, ...notes } });
}

/** First on the turn route, so every turn request is counted once, refused ones too. */
export function countTurns(metrics: ServiceMetrics): RequestHandler {
  return (_req, res, next) => {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    res.once("finish", () => {
      const { errorCode, replayed } = (res.locals.turnAnswer ?? {}) as TurnAnswerNotes;
      metrics.turnAnswered(turnOutcome(res.statusCode, errorCode, replayed), seconds());
    });
    res.once("close", () => {
      if (!res.writableFinished) metrics.turnAnswered("disconnected", seconds());
    });
    next();
  };
}
