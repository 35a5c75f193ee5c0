import fc from "fast-check";

/**
 * The error codes (and their statuses) the README documents for requests a client got
 * wrong. A fuzzed request must get one of these; anything else (a 5xx above all) is a bug.
 */
export const CLIENT_ERRORS = {
  invalid_json: 400,
  invalid_body: 400,
  invalid_params: 400,
  invalid_headers: 400,
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  body_too_large: 413,
  unsupported_media_type: 415,
} as const;

export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

/** Ids, turn ids and session ids accept exactly these characters. */
export const ID_CHARS = /^[A-Za-z0-9_-]+$/;

/** Characters that are no part of an id: Redis key and glob metacharacters, traversal, unicode edges. */
const HOSTILE_CHARS = [
  "{",
  "}",
  ":",
  "*",
  "?",
  "[",
  "]",
  " ",
  "\n",
  "\r\n",
  "\t",
  "/",
  "\\",
  ".",
  "..",
  "%",
  "#",
  '"',
  "'",
  "<",
  ",",
  ";",
  "=",
  "&",
  "+",
  "\u0000",
  "\u007f",
  "\u00e9", // é
  "\u202e", // right-to-left override
  "\u05e9", // Hebrew shin
  "\u200b", // zero-width space
  "\u200d", // zero-width joiner
  "\ufeff", // byte order mark
  "\u{1F600}", // emoji, a surrogate pair in UTF-16
  "\u{1F469}\u200d\u{1F469}\u200d\u{1F467}", // family emoji joined by ZWJ
  "e\u0301", // e + combining acute
  "\uff21", // fullwidth A
] as const;

/** Lone surrogates and control characters: never valid chat text. */
export const FORBIDDEN_TEXT_CHARS = [
  "\ud800",
  "\udbff",
  "\udc00",
  "\udfff",
  "\ude00\ud83d", // a surrogate pair in the wrong order
  "\u0000",
  "\u0001",
  "\u0007",
  "\u0008",
  "\u000b",
  "\u000c",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u009f",
] as const;

/** Characters valid in text that count as more than one, or as nothing visible. */
export const TEXT_UNITS = ["a", "\u00e9", "\u{1F600}", "\u200b", "\u202e", "\u05e9", "e\u0301"];

/** An id with at least one character outside A-Z a-z 0-9 _ -. */
export const hostileId = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9_-]{0,8}$/),
    fc.constantFrom(...HOSTILE_CHARS),
    fc.stringMatching(/^[A-Za-z0-9_-]{0,8}$/),
  )
  .map(([head, hostile, tail]) => `${head}${hostile}${tail}`);

/** Node's HTTP client sends header values as latin1: send unicode as its UTF-8 bytes. */
export function asHeaderBytes(value: string): string {
  return Buffer.from(value, "utf8").toString("latin1");
}

/** What the server sees of a header value: Node strips spaces and tabs at both ends. */
export function asReceived(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, "");
}

/** A JSON object literal with keys in the given order (and "__proto__" as an own key). */
export function jsonObject(entries: ReadonlyArray<readonly [string, unknown]>): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(",")}}`;
}
