import type { NextFunction, Request, Response } from "express";
import type { ErrorResponse } from "../contract.ts";
import {
  ServiceError,
  type ServiceErrorCode,
  StoreUnavailableError,
  StoreWriteUncertainError,
} from "../errors.ts";
import { logger } from "../logger.ts";
import type { ServiceMetrics } from "../metrics/service-metrics.ts";
import { noteAnswer } from "./count-turns.ts";
import { HttpError } from "./http-error.ts";

/** Errors raised by express.json() (http-errors) carry a `type` and an HTTP `status`. */
interface BodyParserError {
  type: string;
  status: number;
  message: string;
}

function isBodyParserError(error: unknown): error is BodyParserError {
  return typeof error === "object" && error !== null && "type" in error && "status" in error;
}

/** Any other error that says it is the client's fault (http-errors sets `status`). */
function hasClientStatus(error: unknown): boolean {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}

const BODY_PARSER_ERRORS: Record<string, HttpError> = {
  "entity.too.large": new HttpError(413, "body_too_large", "request body is too large"),
  "entity.parse.failed": new HttpError(400, "invalid_json", "request body is not valid JSON"),
  "encoding.unsupported": new HttpError(
    415,
    "unsupported_media_type",
    "Content-Encoding is not accepted: send the body uncompressed",
  ),
};

/** The one place a domain error gets its HTTP status. */
export const SERVICE_ERROR_STATUS: Record<ServiceErrorCode, number> = {
  conversation_busy: 409,
  turn_in_progress: 409,
  turn_fenced: 409,
  store_unavailable: 503,
  store_write_uncertain: 503,
  model_error: 502,
  rate_limited: 429,
};

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof ServiceError) {
    return new HttpError(SERVICE_ERROR_STATUS[error.code], error.code, error.message);
  }
  // The router decodes path parameters with decodeURIComponent, which throws on "%E0%A4%A".
  if (error instanceof URIError) {
    return new HttpError(400, "invalid_params", "the path is not valid percent-encoding");
  }
  if (isBodyParserError(error)) {
    const known = BODY_PARSER_ERRORS[error.type];
    if (known) return known;
  }
  if (hasClientStatus(error)) return new HttpError(400, "bad_request", "malformed request");
  return new HttpError(500, "internal_error", "internal error");
}

/** The code and message `error` is answered with, nothing logged: for an event of a stream. */
export function errorBodyOf(error: unknown): { code: string; message: string } {
  const { code, message } = toHttpError(error);
  return { code, message };
}

/**
 * The status and code `error` is answered with, logged when it is the server's (5xx) and a
 * failed Redis command counted in `metrics`: for a JSON answer, or a stream's error event.
 */
export function reportError(error: unknown, metrics?: ServiceMetrics): HttpError {
  const httpError = toHttpError(error);
  if (httpError.status >= 500)
    logger.error({ err: error, code: httpError.code }, httpError.message);
  if (error instanceof StoreUnavailableError) metrics?.storeFailed("unavailable");
  if (error instanceof StoreWriteUncertainError) metrics?.storeFailed("uncertain");
  return httpError;
}

/** Every error becomes `{ error: { code, message } }` with its status. */
export function handleErrors(metrics?: ServiceMetrics) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const httpError = reportError(error, metrics);
    noteAnswer(res, { errorCode: httpError.code });
    const body: ErrorResponse = { error: { code: httpError.code, message: httpError.message } };
    res.status(httpError.status).json(body);
  };
}

/** The error handler of an app that counts nothing. */
export const errorHandler = handleErrors();

/** The last route: a JSON 404 instead of Express's HTML page. */
export function notFound(req: Request): never {
  const path = req.path.length > 200 ? `${req.path.slice(0, 200)}...` : req.path;
  throw new HttpError(404, "not_found", `no route for ${req.method} ${path}`);
}

/** A known path asked with a method it does not serve: JSON 405 with the `Allow` header. */
export function methodNotAllowed(allowed: readonly string[]) {
  const allow = allowed.join(", ");
  return (req: Request, res: Response): never => {
    res.set("Allow", allow);
    throw new HttpError(405, "method_not_allowed", `${req.method} is not allowed here (${allow})`);
  };
}
