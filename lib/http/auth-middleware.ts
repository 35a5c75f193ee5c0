import type { NextFunction, Request, Response } from "express";
import { verifyToken } from "../auth.ts";
import { HttpError } from "../errors.ts";
import type { Identity } from "../types.ts";

/** Verifies `Authorization: Bearer <token>` and stores the identity in `res.locals.identity`. */
export function requireIdentity(secret: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get("authorization");
    const match = header?.match(/^Bearer ([A-Za-z0-9_.-]+)$/);
    if (!match?.[1]) {
      throw new HttpError(401, "unauthorized", "missing or malformed Authorization: Bearer token");
    }
    const verified = verifyToken(match[1], secret);
    if (!verified.ok) throw new HttpError(401, "unauthorized", verified.reason);
    res.locals.identity = verified.identity satisfies Identity;
    next();
  };
}

export function identityOf(res: Response): Identity {
  return res.locals.identity as Identity;
}
