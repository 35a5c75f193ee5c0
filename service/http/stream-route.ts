import type { RequestHandler } from "express";
import { conversationKey } from "../auth/conversation-key.ts";
import type { AppConfig } from "../config.ts";
import type { TurnStreams } from "../streams/turn-streams.ts";
import { identityOf } from "./auth-middleware.ts";
import { HttpError } from "./http-error.ts";
import { parseTurnStreamRequest } from "./schemas.ts";
import {
  endWithError,
  STREAM_READ_FAILED,
  sendEvents,
  startEventStream,
  whileConnected,
} from "./sse.ts";

interface StreamRouteOptions {
  config: AppConfig;
  streams: TurnStreams;
}

/**
 * `GET /conversations/:id/turns/:turnId/stream` after authentication: the turn's events after
 * `Last-Event-ID` (all of them without it), then the live ones until done or error. Any
 * worker serves it when the streams are in Redis. The key comes from the verified identity,
 * so a user reads only their own turns: 404 for any other (or an expired stream).
 */
export function turnStreamRoute({ config, streams }: StreamRouteOptions): RequestHandler {
  return async (req, res) => {
    const { conversationId, turnId, afterId } = parseTurnStreamRequest(req);
    const key = conversationKey(config.REDIS_KEY_PREFIX, identityOf(res), conversationId);
    const events = await streams.follow({ key, turnId }, afterId, whileConnected(res));
    if (!events) {
      const why = `kept ${config.STREAM_TTL_SECONDS} s after its end`;
      throw new HttpError(
        404,
        "not_found",
        `no stream for turn ${turnId}: never started, or expired (${why})`,
      );
    }
    startEventStream(res);
    const { last, readFailed } = await sendEvents(res, events);
    if (readFailed) endWithError(res, (last?.id ?? afterId) + 1, STREAM_READ_FAILED);
    else res.end();
  };
}
