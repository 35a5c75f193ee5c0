import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Identity } from "../contract.ts";

/**
 * Bearer tokens: `base64url(JSON payload) "." base64url(HMAC-SHA256(payload))`.
 * A deliberately small format so learners can read it; the point is that the
 * state key comes from a *verified* identity, not from a header anyone can set.
 */

/** Lone surrogates cannot be percent-encoded into a key; control characters have no business in a name. */
const UNSAFE_NAME = /\p{Cs}|\p{Cc}/u;

const NamePart = z
  .string()
  .min(1)
  .max(128)
  .refine((name) => !UNSAFE_NAME.test(name), "must be well-formed text without control characters");

const PayloadSchema = z
  .object({
    tenant: NamePart,
    user: NamePart,
    /** Expiry, seconds since the epoch. */
    exp: z.number().int().positive(),
  })
  // A payload we did not write (extra claims) is not ours, even when signed with our secret.
  .strict();

const DEFAULT_TTL_SECONDS = 30 * 24 * 3600;
/** Far above any token issueToken makes (about 250 characters for the longest names). */
const MAX_TOKEN_CHARS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function sign(body: string, secret: string): Buffer {
  return createHmac("sha256", secret).update(body).digest();
}

export function issueToken(
  identity: Identity,
  secret: string,
  ttlSeconds = DEFAULT_TTL_SECONDS,
): string {
  const payload = { ...identity, exp: Math.floor(Date.now() / 1000) + ttlSeconds };
  const body = Buffer.from(JSON.stringify(PayloadSchema.parse(payload))).toString("base64url");
  return `${body}.${sign(body, secret).toString("base64url")}`;
}

function signedWithAny(body: string, given: Buffer, secrets: readonly string[]): boolean {
  return secrets.some((secret) => {
    const expected = sign(body, secret);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export type VerifyResult = { ok: true; identity: Identity } | { ok: false; reason: string };

/**
 * Checks the token's signature against each of `secrets` (the current secret, then the one
 * before a rotation), its format and its expiry.
 */
export function verifyToken(
  token: string,
  secrets: string | readonly string[],
  now = Date.now(),
): VerifyResult {
  const parts = token.split(".");
  const [body, signature] = parts;
  // Node's base64url decoder skips characters it does not know; check the alphabet first.
  if (
    token.length > MAX_TOKEN_CHARS ||
    parts.length !== 2 ||
    !body ||
    !signature ||
    !BASE64URL.test(body) ||
    !BASE64URL.test(signature)
  ) {
    return { ok: false, reason: "malformed token" };
  }
  const given = Buffer.from(signature, "base64url");
  // Re-encoding must give the same text: the spare low bits of the last character would
  // otherwise let several spellings of one signature verify.
  const canonical = given.toString("base64url") === signature;
  if (
    !canonical ||
    !signedWithAny(body, given, typeof secrets === "string" ? [secrets] : secrets)
  ) {
    return { ok: false, reason: "bad signature" };
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "malformed token" };
  }
  const payload = PayloadSchema.safeParse(json);
  if (!payload.success) return { ok: false, reason: "malformed token" };
  if (payload.data.exp * 1000 <= now) return { ok: false, reason: "token expired" };
  return { ok: true, identity: { tenant: payload.data.tenant, user: payload.data.user } };
}
