import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Identity } from "./types.ts";

/**
 * Bearer tokens: `base64url(JSON payload) "." base64url(HMAC-SHA256(payload))`.
 * A deliberately small format so learners can read it; the point is that the
 * state key comes from a *verified* identity, not from a header anyone can set.
 */
const PayloadSchema = z.object({
  tenant: z.string().min(1).max(128),
  user: z.string().min(1).max(128),
  /** Expiry, seconds since the epoch. */
  exp: z.number().int().positive(),
});

const DEFAULT_TTL_SECONDS = 30 * 24 * 3600;

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

export type VerifyResult = { ok: true; identity: Identity } | { ok: false; reason: string };

export function verifyToken(token: string, secret: string, now = Date.now()): VerifyResult {
  const parts = token.split(".");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return { ok: false, reason: "malformed token" };
  const [body, signature] = parts;
  const expected = sign(body, secret);
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
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
