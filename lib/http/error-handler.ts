import type { NextFunction, Request, Response } from "express";
import { HttpError } from "../errors.ts";
import { logger } from "../logger.ts";
import type { ErrorResponse } from "../types.ts";

/** Errors raised by express.json() carry a `type` and an HTTP `status`. */
interface BodyParserError {
  type: string;
  status: number;
  message: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === "object" && error !== null && "type" in error && "status" in error;
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isBodyParserError(error)) {
    if (error.type === "entity.too.large") {
      return new HttpError(413, "body_too_large", "request body is too large");
    }
    if (error.type === "entity.parse.failed") {
      return new HttpError(400, "invalid_json", "request body is not valid JSON");
    }
    if (error.status >= 400 && error.status < 500) {
      return new HttpError(error.status, "bad_request", error.message);
    }
  }
  return new HttpError(500, "internal_error", "internal error");
}

/** Every error becomes `{ error: { code, message } }` with its status. */
export function errorHandler(error: unknown, _req: Request, res: Response, _next: NextFunction) {
  const httpError = toHttpError(error);
  if (httpError.status >= 500)
    logger.error({ err: error, code: httpError.code }, httpError.message);
  const body: ErrorResponse = { error: { code: httpError.code, message: httpError.message } };
  res.status(httpError.status).json(body);
}
