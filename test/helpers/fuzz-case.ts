import type { Identity } from "../../service/contract.ts";
import type { ClientErrorCode } from "./fuzz-values.ts";
import type { ExactRequest } from "./raw-http.ts";

/** The app under fuzz, and one identity whose requests are broken in exactly one way each. */
export interface FuzzTarget {
  secret: string;
  identity: Identity;
  /** A conversation of `identity` that already has history: rejected requests aim at it. */
  conversationId: string;
  textMaxChars: number;
  bodyLimitBytes: number;
}

/** One malformed request and the error codes it may get (several where two checks race). */
export interface HttpFuzzCase {
  via: "http";
  label: string;
  request: ExactRequest;
  codes: readonly ClientErrorCode[];
}

type Parts = { path?: string; method?: string; headers?: Record<string, string>; body?: string };

/** A request that would be stored, with `parts` applied on top (a header set to DROP is left out). */
export function turn(target: FuzzTarget, token: string, parts: Parts = {}): ExactRequest {
  const headers: Record<string, string> = {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    ...parts.headers,
  };
  for (const [name, value] of Object.entries(parts.headers ?? {})) {
    if (value === DROP) delete headers[name];
  }
  return {
    method: parts.method ?? "POST",
    path: parts.path ?? `/conversations/${target.conversationId}/turns`,
    headers,
    body: parts.body ?? JSON.stringify({ text: "hello" }),
  };
}

/** Marks a header to leave out of the request. */
export const DROP = "\u0000drop";

export const httpCase =
  (label: string, codes: readonly ClientErrorCode[]) =>
  (request: ExactRequest): HttpFuzzCase => ({ via: "http", label, request, codes });
