import type { HttpFuzzCase } from "./fuzz-case.ts";
import type { RawFuzzCase } from "./fuzz-raw-requests.ts";
import { CLIENT_ERRORS, type ClientErrorCode } from "./fuzz-values.ts";
import type { WireResponse } from "./raw-http.ts";

export type FuzzCase = HttpFuzzCase | RawFuzzCase;

/** Node's own answers to what its parser rejects (no JSON: the app never saw the request). */
const NODE_PARSER_STATUSES = new Set([400, 431]);

function errorCodeOf(body: unknown): string | undefined {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === "string" && typeof error.message === "string"
    ? error.code
    : undefined;
}

/**
 * Why an answer to a malformed request is wrong, or undefined when it is right: a 4xx whose
 * JSON body `{ error: { code, message } }` carries one of the case's documented codes, with
 * that code's status. Raw-socket cases may instead get Node's bare 400/431.
 */
export function wrongAnswer(fuzzCase: FuzzCase, res: WireResponse): string | undefined {
  if (res.status < 400 || res.status > 499) return `status ${res.status}, expected a 4xx`;
  const code = errorCodeOf(res.body);
  if (code === undefined) {
    if (
      fuzzCase.via === "raw" &&
      NODE_PARSER_STATUSES.has(res.status) &&
      !res.headers["x-worker-pid"]
    ) {
      return undefined;
    }
    return `status ${res.status} without a JSON error body: ${JSON.stringify(res.body).slice(0, 200)}`;
  }
  if (!(fuzzCase.codes as readonly string[]).includes(code)) {
    return `code ${code} (${res.status}), expected one of ${fuzzCase.codes.join(", ")}`;
  }
  if (CLIENT_ERRORS[code as ClientErrorCode] !== res.status) {
    return `code ${code} came with status ${res.status}`;
  }
  if (!res.headers["x-worker-pid"]) return "an app answer without X-Worker-Pid";
  if (code === "method_not_allowed" && !res.headers.allow) return "405 without an Allow header";
  return undefined;
}

/** A short, reproducible description of a case for a failure message. */
export function describeCase(fuzzCase: FuzzCase): string {
  if (fuzzCase.via === "raw") {
    return `raw ${fuzzCase.label}: ${JSON.stringify(fuzzCase.bytes.toString("latin1").slice(0, 300))}`;
  }
  const { method, path, headers, body } = fuzzCase.request;
  const shown =
    typeof body === "string" ? body.slice(0, 200) : body?.toString("latin1").slice(0, 200);
  return `${fuzzCase.label}: ${method} ${path.slice(0, 200)} ${JSON.stringify(headers).slice(0, 300)} ${JSON.stringify(shown)}`;
}
