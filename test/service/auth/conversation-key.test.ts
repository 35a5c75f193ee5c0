import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conversationKey } from "../../../service/auth/conversation-key.ts";
import { conversationKeys } from "../../../service/store/commands.ts";

/** What Redis Cluster hashes: the text between the first "{" and the first "}" after it. */
function hashTag(key: string): string | undefined {
  const open = key.indexOf("{");
  const close = key.indexOf("}", open + 1);
  return open >= 0 && close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/** Names full of the characters that could confuse a key: delimiters, braces, percent signs. */
const trickyName = fc.string({
  unit: fc.constantFrom("a", "b", ":", "{", "}", "%", "3", "A", "*", "?", "[", " ", "\u{1F600}"),
  minLength: 1,
  maxLength: 8,
});
const identity = fc.record({ tenant: trickyName, user: trickyName });
const conversationId = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);

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
    // A colon can also not move the boundary between the user and the conversation id.
    const c = conversationKey("p:", { tenant: "a", user: "b:c" }, "d");
    const d = conversationKey("p:", { tenant: "a", user: "b" }, "c:d");
    expect(c).not.toBe(d);
  });

  it("cannot be confused by a name that spells another name's encoding", () => {
    const plain = conversationKey("p:", { tenant: "a:b", user: "c" }, "x");
    const spelled = conversationKey("p:", { tenant: "a%3Ab", user: "c" }, "x");
    expect(plain).toBe("p:{a%3Ab:c:x}");
    expect(spelled).not.toBe(plain);
  });

  it("keeps exactly one hash tag, whatever braces the identity contains", () => {
    const key = conversationKey("p:", { tenant: "{evil}", user: "}{" }, "c1");
    expect(key.match(/[{}]/g)).toEqual(["{", "}"]);
  });

  it("gives different keys to different (tenant, user, conversation) and one tag each (property)", () => {
    fc.assert(
      fc.property(identity, conversationId, identity, conversationId, (a, aConv, b, bConv) => {
        const keyA = conversationKey("p:", a, aConv);
        const keyB = conversationKey("p:", b, bConv);
        const same = a.tenant === b.tenant && a.user === b.user && aConv === bConv;
        expect(keyA === keyB).toBe(same);
        for (const [key, who, conversation] of [
          [keyA, a, aConv],
          [keyB, b, bConv],
        ] as const) {
          expect(key.match(/[{}]/g)).toEqual(["{", "}"]);
          // Every key of the conversation hashes on the whole identity and conversation.
          for (const derived of Object.values(conversationKeys(key))) {
            expect(hashTag(derived)).toBe(
              [who.tenant, who.user, conversation].map(encodeURIComponent).join(":"),
            );
          }
        }
      }),
      { seed: 20240611, numRuns: 500 },
    );
  });

  it("decodes back to its parts: the encoding loses nothing", () => {
    fc.assert(
      fc.property(identity, conversationId, (who, conversation) => {
        const tag = hashTag(conversationKey("p:", who, conversation)) ?? "";
        expect(tag.split(":").map(decodeURIComponent)).toEqual([
          who.tenant,
          who.user,
          conversation,
        ]);
      }),
      { seed: 20240611, numRuns: 300 },
    );
  });
});
