import type { Request } from "express";
import { z } from "zod";
import type { HistoryPageRequest } from "../chat/chat-service.ts";
import { HttpError } from "./http-error.ts";

/**
 * What a valid request looks like, and the parsers that turn anything else into a 4xx
 * HttpError before a handler touches the store.
 */

const ID_CHARS = "A-Z a-z 0-9 _ -";

/**
 * Conversation ids are URL-safe and short: they become part of a storage key. The pattern,
 * unanchored, is also what the web page's proxy forwards.
 */
export const CONVERSATION_ID_PATTERN = "[A-Za-z0-9_-]{1,100}";
const CONVERSATION_ID = new RegExp(`^${CONVERSATION_ID_PATTERN}$`);
/** Turn ids double as idempotency keys. */
const TURN_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** X-Session is never a key in the shared code, but the unstable-key scenario makes it one. */
const SESSION_ID = /^[A-Za-z0-9_-]{1,100}$/;

const ConversationParams = z
  .object({
    conversationId: z
      .string()
      .regex(CONVERSATION_ID, `conversationId must be 1-100 characters of ${ID_CHARS}`),
  })
  .strict();

const TurnStreamParams = z
  .object({
    conversationId: z
      .string()
      .regex(CONVERSATION_ID, `conversationId must be 1-100 characters of ${ID_CHARS}`),
    turnId: z.string().regex(TURN_ID, `turnId must be 1-64 characters of ${ID_CHARS}`),
  })
  .strict();

/** The id of the last event a client has: plain digits, at most 15 (exact as a number). */
const LastEventId = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,14})$/, "Last-Event-ID must be the id of an event of this stream")
  .transform(Number);

/** The conversation routes take no query parameters: one sent anyway is a client mistake. */
const NoQuery = z.object({}).strict();

/** The longest page one read of the messages may ask for. */
const MAX_PAGE_LIMIT = 1000;
const LIMIT_MESSAGE = `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}`;
const CURSOR_MESSAGE = "before must be the cursor a previous page gave as its before";

/** Plain decimal digits only: no sign, exponent, fraction or spaces that Number() would take. */
const PageLimit = z
  .string({ error: "limit must be given once" })
  .regex(/^[0-9]{1,4}$/, LIMIT_MESSAGE)
  .transform(Number)
  .pipe(z.number().min(1, LIMIT_MESSAGE).max(MAX_PAGE_LIMIT, LIMIT_MESSAGE));

/** A position in the history, as a page's `before` gives it: at most 15 digits stay exact. */
const PageCursor = z
  .string({ error: "before must be given once" })
  .regex(/^(0|[1-9][0-9]{0,14})$/, CURSOR_MESSAGE)
  .transform(Number);

/** The messages route pages with `limit` and `before`, and takes nothing else. */
const MessagesQuery = z
  .strictObject(
    { limit: PageLimit.optional(), before: PageCursor.optional() },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `unknown query parameter ${issue.keys.join(", ")}: this route takes only limit and before`
          : undefined,
    },
  )
  .refine((query) => query.before === undefined || query.limit !== undefined, {
    message: "before needs limit, the size of the page",
    path: ["before"],
  });

const ConversationHeaders = z.object({
  "idempotency-key": z
    .string()
    .regex(TURN_ID, `Idempotency-Key must be 1-64 characters of ${ID_CHARS}`)
    .optional(),
  "x-session": z
    .string()
    .regex(SESSION_ID, `X-Session must be 1-100 characters of ${ID_CHARS}`)
    .optional(),
});

/** A lone surrogate has no UTF-8 form; control characters (other than tab and newlines) are not chat text. */
const LONE_SURROGATE = /\p{Cs}/u;
const CONTROL_CHARACTER = /\p{Cc}/u;
const hasControlCharacter = (text: string) => CONTROL_CHARACTER.test(text.replace(/[\t\n\r]/g, ""));

/** The body of a turn; the longest text comes from config (TEXT_MAX_CHARS). */
export function turnBodySchema(maxTextChars: number) {
  return (
    z
      .object({
        text: z
          .string()
          .refine((text) => !LONE_SURROGATE.test(text), "text must not contain lone surrogates")
          .refine(
            (text) => !hasControlCharacter(text),
            "text must not contain control characters other than tab and newlines",
          )
          .trim()
          .min(1, "text must not be empty")
          .max(maxTextChars, `text is too long (at most ${maxTextChars} characters)`),
        turnId: z
          .string()
          .regex(TURN_ID, `turnId must be 1-64 characters of ${ID_CHARS}`)
          .optional(),
      })
      // Unknown fields (also "__proto__", "constructor") are rejected rather than silently dropped.
      .strict()
  );
}

type TurnBodySchema = ReturnType<typeof turnBodySchema>;
type TurnBodyInput = z.infer<TurnBodySchema>;

/** At most this many issues, each cut short: error messages must not echo a whole hostile body. */
const MAX_ISSUES = 5;
const MAX_ISSUE_CHARS = 200;

/** One readable line from a zod error: "text: text must not be empty". */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, MAX_ISSUES)
    .map((issue) =>
      issue.path.length ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message,
    )
    .map((line) => (line.length > MAX_ISSUE_CHARS ? `${line.slice(0, MAX_ISSUE_CHARS)}...` : line))
    .join("; ");
}

function parseConversationParams(req: Request): { conversationId: string } {
  const params = ConversationParams.safeParse(req.params);
  if (!params.success) throw new HttpError(400, "invalid_params", describeIssues(params.error));
  return params.data;
}

/** The route's conversation id, and no query string. */
export function parseConversationRequest(req: Request): { conversationId: string } {
  const params = parseConversationParams(req);
  const query = NoQuery.safeParse(req.query);
  if (!query.success) {
    throw new HttpError(400, "invalid_params", "this route takes no query parameters");
  }
  return params;
}

/** The conversation id, and the page asked for: none (the whole history) without `limit`. */
export function parseMessagesRequest(req: Request): {
  conversationId: string;
  page?: HistoryPageRequest;
} {
  const params = parseConversationParams(req);
  const query = MessagesQuery.safeParse(req.query);
  if (!query.success) throw new HttpError(400, "invalid_params", describeIssues(query.error));
  const { limit, before } = query.data;
  return limit === undefined ? params : { ...params, page: { limit, before } };
}

/** `GET .../turns/:turnId/stream`: the turn, no query, and the event to resume after (0: all). */
export function parseTurnStreamRequest(req: Request): {
  conversationId: string;
  turnId: string;
  afterId: number;
} {
  const params = TurnStreamParams.safeParse(req.params);
  if (!params.success) throw new HttpError(400, "invalid_params", describeIssues(params.error));
  if (!NoQuery.safeParse(req.query).success) {
    throw new HttpError(400, "invalid_params", "this route takes no query parameters");
  }
  const header = req.get("last-event-id");
  if (header === undefined) return { ...params.data, afterId: 0 };
  const afterId = LastEventId.safeParse(header);
  if (!afterId.success) throw new HttpError(400, "invalid_headers", describeIssues(afterId.error));
  return { ...params.data, afterId: afterId.data };
}

/** True when the client asks for the reply as it is written (`Accept: text/event-stream`). */
export function wantsEventStream(req: Request): boolean {
  return req.accepts(["application/json", "text/event-stream"]) === "text/event-stream";
}

export function parseConversationHeaders(req: Request): z.infer<typeof ConversationHeaders> {
  const headers = ConversationHeaders.safeParse(req.headers);
  if (!headers.success) throw new HttpError(400, "invalid_headers", describeIssues(headers.error));
  return headers.data;
}

export function parseTurnBody(schema: TurnBodySchema, body: unknown): TurnBodyInput {
  // A JSON array, string, number or null (or no body at all) is not a turn.
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "invalid_body", "body must be a JSON object");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, "invalid_body", describeIssues(parsed.error));
  return parsed.data;
}

/**
 * Turn bodies must be declared `application/json` (UTF-8, the only charset accepted):
 * anything else is a clear 415, not a confusing "body must be a JSON object" later.
 */
export function requireJsonContentType(req: Request): void {
  const [mediaType = "", ...parameters] = (req.get("content-type") ?? "").split(";");
  if (mediaType.trim().toLowerCase() !== "application/json") {
    throw new HttpError(415, "unsupported_media_type", "Content-Type must be application/json");
  }
  const charset = parameters
    .map((parameter) => parameter.trim().toLowerCase())
    .find((parameter) => parameter.startsWith("charset="));
  if (charset !== undefined && !/^charset="?utf-8"?$/.test(charset)) {
    throw new HttpError(415, "unsupported_media_type", "the only accepted charset is utf-8");
  }
}
