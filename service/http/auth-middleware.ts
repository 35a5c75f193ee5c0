import type { NextFunction, Request, Response } from "express";
import { verifyToken } from "../auth/tokens.ts";
import type { Identity } from "../contract.ts";
import { HttpError } from "./http-error.ts";

/** The scheme is case-insensitive (RFC 9110); the token is checked by verifyToken. */
const BEARER = /^Bearer ([A-Za-z0-9_.-]{1,2048})$/i;

/** Verifies `Authorization: Bearer <token>` and stores the identity in `res.locals.identity`. */
export function requireIdentity(secrets: readonly string[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    // Node keeps only the first of repeated Authorization headers, so a second one cannot override it.
    const match = req.get("authorization")?.match(BEARER);
    if (!match?.[1]) {
      throw new HttpError(401, "unauthorized", "missing or malformed Authorization: Bearer token");
    }
    const verified = verifyToken(match[1], secrets);
    if (!verified.ok) throw new HttpError(401, "unauthorized", verified.reason);
    res.locals.identity = verified.identity satisfies Identity;
    next();
  };
}

export function identityOf(res: Response): Identity {
  return res.locals.identity as Identity;
}
