import type { RequestHandler } from "express";
import { rateLimit, type Store } from "express-rate-limit";
import type { Identity } from "../contract.ts";
import { RateLimitedError } from "../errors.ts";
import { logger } from "../logger.ts";
import { identityOf } from "./auth-middleware.ts";

const ONE_MINUTE_MS = 60_000;

/** The limit's key: the verified tenant and user, encoded so no two identities meet. */
export function rateLimitKey(identity: Identity): string {
  return [identity.tenant, identity.user].map(encodeURIComponent).join(":");
}

/**
 * At most `limitPerMinute` turns per verified user per minute, counted in `store`. Only a
 * store every worker and host shares (RedisTurnLimitStore) holds the limit across them: a
 * MemoryStore counts per process, so N workers let N times the limit through. Over the
 * limit: 429 rate_limited with `Retry-After` and the IETF `RateLimit` headers, nothing run.
 */
export function turnRateLimit(limitPerMinute: number, store: Store): RequestHandler {
  return rateLimit({
    windowMs: ONE_MINUTE_MS,
    limit: limitPerMinute,
    store,
    keyGenerator: (_req, res) => rateLimitKey(identityOf(res)),
    identifier: "turns",
    standardHeaders: "draft-8",
    legacyHeaders: false,
    handler: (_req, _res, next) => next(new RateLimitedError(limitPerMinute)),
    // The key is the verified identity, never the client's address: the IP checks do not apply.
    validate: { ip: false, trustProxy: false, xForwardedForHeader: false, forwardedHeader: false },
    logger,
  });
}
