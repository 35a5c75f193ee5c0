import { describe, expect, it } from "vitest";
import { conversationKey } from "../../lib/keys.ts";

describe("conversationKey", () => {
  it("is stable for one identity and conversation", () => {
    const key = conversationKey("p:", { tenant: "acme", user: "ann" }, "c1");
    expect(key).toBe("p:{acme:ann:c1}");
    expect(conversationKey("p:", { tenant: "acme", user: "ann" }, "c1")).toBe(key);
  });

  it("cannot be confused by delimiters inside a part", () => {
    const a = conversationKey("p:", { tenant: "a:b", user: "c" }, "x");
    const b = conversationKey("p:", { tenant: "a", user: "b:c" }, "x");
    expect(a).not.toBe(b);
  });

  it("keeps exactly one hash tag, whatever braces the identity contains", () => {
    const key = conversationKey("p:", { tenant: "{evil}", user: "}{" }, "c1");
    expect(key.match(/[{}]/g)).toEqual(["{", "}"]);
  });
});
