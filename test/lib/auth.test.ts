import { describe, expect, it } from "vitest";
import { issueToken, verifyToken } from "../../lib/auth.ts";

const SECRET = "unit-secret";

describe("bearer tokens", () => {
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
    const [, signature] = token.split(".");
    const changed = Buffer.from(JSON.stringify({ tenant: "acme", user: "bob", exp: 4102444800 }));
    expect(verifyToken(`${changed.toString("base64url")}.${signature}`, SECRET)).toMatchObject({
      ok: false,
    });
    expect(verifyToken("not-a-token", SECRET)).toMatchObject({
      ok: false,
      reason: "malformed token",
    });
    expect(verifyToken("a.b.c", SECRET)).toMatchObject({ ok: false });
    const expired = issueToken({ tenant: "acme", user: "ann" }, SECRET, -1);
    expect(verifyToken(expired, SECRET)).toMatchObject({ ok: false, reason: "token expired" });
  });
});
