import { describe, expect, it } from "vitest";
import { issueToken, verifyToken } from "../../../service/auth/tokens.ts";
import {
  signRawPayload,
  withNonCanonicalSignature,
  withPayloadEdited,
  withSignatureCharReplaced,
} from "../../helpers/tokens.ts";

const SECRET = "unit-secret";
const FAR_FUTURE = 4102444800;

describe("bearer tokens", () => {
  it("survives a secret rotation: a token signed with the previous secret still verifies", () => {
    const old = issueToken({ tenant: "acme", user: "ann" }, "old-secret");
    expect(verifyToken(old, ["new-secret", "old-secret"])).toMatchObject({ ok: true });
    expect(verifyToken(old, ["new-secret"])).toMatchObject({ ok: false, reason: "bad signature" });
    expect(verifyToken(old, [])).toMatchObject({ ok: false, reason: "bad signature" });
  });

  it("round-trips a tenant and a user", () => {
    const token = issueToken({ tenant: "acme", user: "ann" }, SECRET);
    expect(verifyToken(token, SECRET)).toEqual({
      ok: true,
      identity: { tenant: "acme", user: "ann" },
    });
  });

  it("rejects another secret, a changed payload, garbage and expiry", () => {
    const token = issueToken({ tenant: "acme", user: "ann" }, SECRET);
    expect(verifyToken(token, "other")).toMatchObject({ ok: false, reason: "bad signature" });
    const changed = withPayloadEdited(token, { tenant: "acme", user: "bob", exp: FAR_FUTURE });
    expect(verifyToken(changed, SECRET)).toMatchObject({ ok: false, reason: "bad signature" });
    expect(verifyToken("not-a-token", SECRET)).toMatchObject({
      ok: false,
      reason: "malformed token",
    });
    expect(verifyToken("a.b.c", SECRET)).toMatchObject({ ok: false });
    const expired = issueToken({ tenant: "acme", user: "ann" }, SECRET, -1);
    expect(verifyToken(expired, SECRET)).toMatchObject({ ok: false, reason: "token expired" });
  });

  it("expires exactly at exp", () => {
    const exp = 2_000_000_000;
    const token = signRawPayload(JSON.stringify({ tenant: "t", user: "u", exp }), SECRET);
    expect(verifyToken(token, SECRET, exp * 1000 - 1)).toMatchObject({ ok: true });
    expect(verifyToken(token, SECRET, exp * 1000)).toMatchObject({ reason: "token expired" });
  });

  it("rejects every changed letter of the signature, including a second spelling of the same bytes", () => {
    const token = issueToken({ tenant: "acme", user: "ann" }, SECRET);
    const signatureLength = token.split(".")[1]?.length ?? 0;
    for (let index = 0; index < signatureLength; index++) {
      expect(verifyToken(withSignatureCharReplaced(token, index), SECRET).ok).toBe(false);
    }
    const respelled = withNonCanonicalSignature(token);
    // Same bytes once decoded: only the canonical-spelling check refuses it.
    const bytes = (t: string) => Buffer.from(t.split(".")[1] ?? "", "base64url");
    expect(bytes(respelled)).toEqual(bytes(token));
    expect(verifyToken(respelled, SECRET)).toMatchObject({ ok: false, reason: "bad signature" });
  });

  it("rejects letters outside base64url that Node's decoder would silently skip", () => {
    const token = issueToken({ tenant: "acme", user: "ann" }, SECRET);
    const [body, signature = ""] = token.split(".");
    for (const junk of ["!", "%", "~", "*"]) {
      const spiked = `${signature.slice(0, 10)}${junk}${signature.slice(10)}`;
      expect(Buffer.from(spiked, "base64url")).toEqual(Buffer.from(signature, "base64url"));
      expect(verifyToken(`${body}.${spiked}`, SECRET)).toMatchObject({
        ok: false,
        reason: "malformed token",
      });
      expect(verifyToken(`${body}${junk}.${signature}`, SECRET).ok).toBe(false);
    }
  });

  it("rejects the standard base64 spelling of a base64url signature", () => {
    // Find a token whose signature has a letter that standard base64 spells differently.
    let token = "";
    for (let user = 0; !/[-_]/.test(token.split(".")[1] ?? ""); user++) {
      token = issueToken({ tenant: "acme", user: `u${user}` }, SECRET);
    }
    const [body, signature = ""] = token.split(".");
    const standard = signature.replaceAll("-", "+").replaceAll("_", "/");
    expect(Buffer.from(standard, "base64url")).toEqual(Buffer.from(signature, "base64url"));
    expect(verifyToken(`${body}.${standard}`, SECRET).ok).toBe(false);
    expect(verifyToken(`${body}.${signature}=`, SECRET).ok).toBe(false);
  });

  it.each([
    ["empty", ""],
    ["a lone dot", "."],
    ["no signature", "eyJ0ZW5hbnQiOiJ0In0."],
    ["no payload", ".c2ln"],
    ["a none-style JWT", "eyJhbGciOiJub25lIn0.eyJ0ZW5hbnQiOiJ0IiwidXNlciI6InUifQ."],
    ["three parts", "a.b.c"],
    ["a very long token", `${"a".repeat(5000)}.${"b".repeat(43)}`],
  ])("rejects %s", (_name, token) => {
    expect(verifyToken(token, SECRET).ok).toBe(false);
  });

  it.each([
    ["not JSON", "tenant=t"],
    ["a JSON array", "[1]"],
    ["no exp", JSON.stringify({ tenant: "t", user: "u" })],
    ["exp as a string", JSON.stringify({ tenant: "t", user: "u", exp: String(FAR_FUTURE) })],
    ["a fractional exp", JSON.stringify({ tenant: "t", user: "u", exp: FAR_FUTURE + 0.5 })],
    ["an empty tenant", JSON.stringify({ tenant: "", user: "u", exp: FAR_FUTURE })],
    ["a 129-character user", JSON.stringify({ tenant: "t", user: "u".repeat(129), exp: 1e10 })],
    ["an extra claim", JSON.stringify({ tenant: "t", user: "u", exp: FAR_FUTURE, admin: true })],
    ["a lone surrogate", JSON.stringify({ tenant: "t\ud800", user: "u", exp: FAR_FUTURE })],
    ["a control character", JSON.stringify({ tenant: "t", user: "u\u0000", exp: FAR_FUTURE })],
  ])("rejects a validly signed payload with %s", (_name, payload) => {
    expect(verifyToken(signRawPayload(payload, SECRET), SECRET)).toMatchObject({
      ok: false,
      reason: "malformed token",
    });
  });

  it("refuses to issue a token whose names could not become a key", () => {
    expect(() => issueToken({ tenant: "t\ud800", user: "u" }, SECRET)).toThrow();
    expect(() => issueToken({ tenant: "t", user: "a\nb" }, SECRET)).toThrow();
  });

  it("keeps delimiters and braces in names: the key encodes them", () => {
    const identity = { tenant: "a:b{c}", user: "}{ %3A" };
    expect(verifyToken(issueToken(identity, SECRET), SECRET)).toEqual({ ok: true, identity });
  });
});
