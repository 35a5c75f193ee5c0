import fc from "fast-check";
import { issueToken } from "../../service/auth/tokens.ts";
import { DROP, type FuzzTarget, httpCase, turn } from "./fuzz-case.ts";
import { asHeaderBytes, asReceived, hostileId, ID_CHARS } from "./fuzz-values.ts";
import {
  signRawPayload,
  withNonCanonicalSignature,
  withPayloadEdited,
  withSignatureCharReplaced,
} from "./tokens.ts";

/** Authorization, Idempotency-Key and X-Session values that must be refused. */
export function badAuthorization(target: FuzzTarget, token: string) {
  const [body = "", signature = ""] = token.split(".");
  const { identity, secret } = target;
  const future = Math.floor(Date.now() / 1000) + 3600;
  const bearer = (value: string) => `Bearer ${value}`;
  const truncated = fc
    .integer({ min: 0, max: token.length - 1 })
    .map((end) => bearer(token.slice(0, end)));
  const letterReplaced = fc
    .tuple(fc.nat(), fc.integer({ min: 1, max: 63 }))
    .map(([index, step]) => bearer(withSignatureCharReplaced(token, index, step)));
  const junkInserted = fc
    .tuple(
      fc.integer({ min: 1, max: token.length - 1 }),
      fc.constantFrom("!", "%", "~", "*", "+", "/", "=", " ", ".", "\u00e9"),
    )
    .map(([at, junk]) => bearer(`${token.slice(0, at)}${junk}${token.slice(at)}`));
  const expired = fc
    .integer({ min: 1, max: 10_000_000 })
    .map((ago) => bearer(issueToken(identity, secret, -ago)));
  const otherSecret = fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((other) => other !== secret)
    .map((other) => bearer(issueToken(identity, other)));
  const tampered = fc
    .constantFrom(
      { ...identity, user: `${identity.user}-other` },
      { ...identity, tenant: "other-tenant" },
      { ...identity, exp: future + 10 ** 8 },
      { ...identity, user: identity.user, exp: future, admin: true },
    )
    .map((payload) => bearer(withPayloadEdited(token, { exp: future, ...payload })));
  const noneStyle = fc.constantFrom(
    bearer(`${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${body}.`),
    bearer(`${body}.`),
    bearer(body),
    bearer(`.${signature}`),
    bearer(`${body}.none`),
    bearer(`${token}.`),
    bearer(`${body}..${signature}`),
  );
  const badPayload = fc
    .oneof(
      fc.constantFrom(
        JSON.stringify({ tenant: identity.tenant, user: identity.user }),
        JSON.stringify({ ...identity, exp: String(future) }),
        JSON.stringify({ ...identity, exp: future + 0.5 }),
        JSON.stringify({ ...identity, exp: future, role: "admin" }),
        JSON.stringify({ tenant: "", user: identity.user, exp: future }),
        JSON.stringify({ tenant: identity.tenant, user: "u".repeat(129), exp: future }),
        JSON.stringify({ tenant: "t\ud800", user: identity.user, exp: future }),
        JSON.stringify({ tenant: identity.tenant, user: "u\u0000", exp: future }),
        "not json",
      ),
      fc
        .jsonValue({ maxDepth: 2 })
        // Not even by chance a payload of the right shape: the point is a wrong one.
        .filter((value) => !(typeof value === "object" && value !== null && "exp" in value))
        .map((value) => JSON.stringify(value)),
    )
    .map((payload) => bearer(signRawPayload(payload, secret)));
  const scheme = fc.constantFrom(
    DROP,
    "",
    "Bearer",
    `Basic ${Buffer.from("user:pass").toString("base64")}`,
    `Token ${token}`,
    token,
    `Bearer  ${token}`,
    `Bearer\t${token}`,
    `Bearer:${token}`,
    `Bearer ${token} x`,
    `Bearer ${token},Bearer ${token}`,
    `Bearer ${withNonCanonicalSignature(token)}`,
    `Bearer ${"a".repeat(3000)}.${"b".repeat(43)}`,
    `Bearer ${asHeaderBytes("\u{1F600}")}`,
  );
  const header = fc.oneof(
    truncated,
    letterReplaced,
    junkInserted,
    expired,
    otherSecret,
    tampered,
    noneStyle,
    badPayload,
    scheme,
  );
  return header
    .filter((value) => value === DROP || asReceived(value) !== bearer(token))
    .chain((authorization) =>
      fc.constantFrom("POST", "GET").map((method) =>
        turn(target, token, {
          method,
          path: `/conversations/${target.conversationId}/${method === "POST" ? "turns" : "messages"}`,
          headers: { authorization },
        }),
      ),
    )
    .map(httpCase("a broken bearer token", ["unauthorized"]));
}

export function badHeaders(target: FuzzTarget, token: string) {
  const hostileValue = fc.oneof(
    fc.constant(""),
    hostileId.map(asHeaderBytes),
    fc.stringMatching(/^[A-Za-z0-9_-]{101,200}$/),
    fc.constantFrom(
      "a b",
      "a,b",
      "{s}",
      "s:1",
      "s*",
      "s?",
      "[s]",
      "a\tb",
      asHeaderBytes("s\u202e"),
    ),
  );
  const header = fc.constantFrom(
    { name: "idempotency-key", max: 64 },
    { name: "x-session", max: 100 },
  );
  return fc
    .tuple(header, hostileValue, fc.boolean())
    .filter(([{ max }, value]) => {
      const seen = asReceived(value);
      return !(ID_CHARS.test(seen) && seen.length <= max);
    })
    .map(([{ name }, value, onRead]) =>
      turn(target, token, {
        method: onRead && name === "x-session" ? "GET" : "POST",
        path: `/conversations/${target.conversationId}/${onRead && name === "x-session" ? "messages" : "turns"}`,
        headers: { [name]: value },
      }),
    )
    .map(httpCase("a bad Idempotency-Key or X-Session", ["invalid_headers"]));
}
