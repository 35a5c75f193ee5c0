import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppCluster } from "../../../lab/processes/app-cluster.ts";
import { conversationKey } from "../../../service/auth/conversation-key.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import type {
  ErrorResponse,
  Identity,
  MessagesResponse,
  TurnResponse,
} from "../../../service/contract.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import { type FixedApp, startFixedApp } from "../../helpers/fixed-app.ts";
import { client } from "../../helpers/http.ts";
import { changedKeys, snapshotPrefix } from "../../helpers/redis-snapshot.ts";
import { signRawPayload, withPayloadEdited } from "../../helpers/tokens.ts";

const SECRET = "isolation-test-secret";
const PREFIX = `isolation-${process.pid}:`;

describe("tenant isolation, against a real fixed cluster and a private Redis", () => {
  let fixed: FixedApp;
  let app: AppCluster;
  let inspector: Redis;
  const as = (identity: Identity) => client(app.url, issueToken(identity, SECRET));
  const contents = async (identity: Identity, conversationId: string) => {
    const res = await as(identity).messages(conversationId);
    expect(res.status).toBe(200);
    return (res.body as MessagesResponse).messages.map((m) => `${m.role}: ${m.content}`);
  };
  const say = async (identity: Identity, conversationId: string, text: string) => {
    const res = await as(identity).turn(conversationId, { text });
    expect(res.status).toBe(200);
    return res.body as TurnResponse;
  };

  beforeAll(async () => {
    fixed = await startFixedApp({
      env: { AUTH_SECRET: SECRET, AGENT_LATENCY_MS: "0", REDIS_KEY_PREFIX: PREFIX },
    });
    ({ app, inspector } = fixed);
  });
  afterAll(async () => {
    await fixed?.stop();
  });

  it("gives each user of each tenant their own history under the same conversation id", async () => {
    const ann = { tenant: "acme", user: "ann" };
    const bob = { tenant: "acme", user: "bob" };
    const annElsewhere = { tenant: "globex", user: "ann" };

    expect((await say(ann, "shared", "ann's secret")).messagesSeen).toBe(1);
    expect(await contents(bob, "shared")).toEqual([]);
    expect(await contents(annElsewhere, "shared")).toEqual([]);

    // Writes of the others start their own histories and never see ann's.
    const bobTurn = await say(bob, "shared", "bob's note");
    expect(bobTurn.messagesSeen).toBe(1);
    expect(bobTurn.reply).not.toContain("secret");
    expect((await say(annElsewhere, "shared", "globex ann")).messagesSeen).toBe(1);

    expect((await say(ann, "shared", "ann again")).messagesSeen).toBe(3);
    const annHistory = await contents(ann, "shared");
    expect(annHistory.filter((m) => m.startsWith("user:"))).toEqual([
      "user: ann's secret",
      "user: ann again",
    ]);
    expect(annHistory.join("\n")).not.toMatch(/bob|globex/);
    expect((await contents(bob, "shared")).filter((m) => m.startsWith("user:"))).toEqual([
      "user: bob's note",
    ]);
    expect((await contents(annElsewhere, "shared")).filter((m) => m.startsWith("user:"))).toEqual([
      "user: globex ann",
    ]);
  });

  it("does not replay another user's turn for the same turnId, nor follow X-Session", async () => {
    const carol = { tenant: "acme", user: "carol" };
    const dave = { tenant: "acme", user: "dave" };
    const carolTurn = await as(carol).turn("ids", { text: "carol's words", turnId: "turn-1" });
    expect(carolTurn.status).toBe(200);
    // Same conversation id, same turnId: for dave it is a new turn in his own conversation.
    const daveTurn = await as(dave).turn(
      "ids",
      { text: "dave's words", turnId: "turn-1" },
      { "x-session": "carol" },
    );
    expect(daveTurn.status).toBe(200);
    expect(daveTurn.body).not.toHaveProperty("replayed");
    expect((daveTurn.body as TurnResponse).reply).toContain("dave's words");
    expect(await contents(dave, "ids")).toHaveLength(2);
    expect((await contents(carol, "ids"))[0]).toBe("user: carol's words");
  });

  it.each([
    [
      "a colon moved between tenant and user",
      { tenant: "a:b", user: "c" },
      { tenant: "a", user: "b:c" },
    ],
    [
      "braces that would end the hash tag early",
      { tenant: "t{a", user: "}b" },
      { tenant: "t", user: "a}{b" },
    ],
    ["a whole hash tag inside a name", { tenant: "{x}", user: "y" }, { tenant: "x", user: "{y}" }],
    [
      "a name spelling another name's encoding",
      { tenant: "p%3Aq", user: "r" },
      { tenant: "p:q", user: "r" },
    ],
  ])(
    "keeps %s apart: separate histories and keys, one hash tag each",
    async (_name, first, second) => {
      await say(first, "same", "from the first");
      await say(second, "same", "from the second");
      expect((await contents(first, "same"))[0]).toBe("user: from the first");
      expect((await contents(second, "same"))[0]).toBe("user: from the second");
      expect(await contents(first, "same")).toHaveLength(2);
      expect(await contents(second, "same")).toHaveLength(2);

      const firstKeys = conversationKeys(conversationKey(PREFIX, first, "same"));
      const secondKeys = conversationKeys(conversationKey(PREFIX, second, "same"));
      expect(firstKeys.messages).not.toBe(secondKeys.messages);
      const stored = [...(await snapshotPrefix(inspector, PREFIX)).keys()];
      expect(stored).toContain(firstKeys.messages);
      expect(stored).toContain(secondKeys.messages);
      for (const key of stored) {
        // Exactly one "{", then exactly one "}": the tag Redis Cluster hashes is the whole identity.
        expect(key.match(/[{}]/g), key).toEqual(["{", "}"]);
      }
      const tag = (key: string) => key.slice(key.indexOf("{"), key.indexOf("}") + 1);
      expect(tag(firstKeys.messages)).not.toBe(tag(secondKeys.messages));
      expect(Object.values(firstKeys).map(tag)).toEqual(
        Object.values(firstKeys).map(() => tag(firstKeys.messages)),
      );
    },
  );

  describe("refuses tokens it did not issue, or no longer honours, and stores nothing", () => {
    const owner = { tenant: "acme", user: "owner" };
    const intruder = { tenant: "acme", user: "intruder" };
    const future = 4102444800;

    beforeAll(async () => {
      await say(owner, "target", "owner's history");
    });

    it.each([
      ["an expired token of the owner", () => issueToken(owner, SECRET, -1)],
      ["the owner's identity signed with another secret", () => issueToken(owner, "forged-secret")],
      [
        "the intruder's token with its payload edited to the owner",
        () => withPayloadEdited(issueToken(intruder, SECRET), { ...owner, exp: future }),
      ],
      [
        "the owner's token with its expiry extended",
        () => withPayloadEdited(issueToken(owner, SECRET, -1), { ...owner, exp: future }),
      ],
      ["a token cut short", () => issueToken(owner, SECRET).slice(0, -5)],
      ["a token without signature", () => `${issueToken(owner, SECRET).split(".")[0]}.`],
      [
        "a none-style JWT",
        () =>
          `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ ...owner, exp: future })).toString("base64url")}.`,
      ],
      [
        "a validly signed payload with an extra claim",
        () => signRawPayload(JSON.stringify({ ...owner, exp: future, admin: true }), SECRET),
      ],
      ["garbage", () => "not-a-token"],
    ])("401 unauthorized for %s", async (_name, makeToken) => {
      const before = await snapshotPrefix(inspector, PREFIX);
      expect(before.size).toBeGreaterThan(0);
      const api = client(app.url, makeToken());
      for (const res of [
        await api.turn("target", { text: "intrusion" }),
        await api.messages("target"),
      ]) {
        expect(res.status).toBe(401);
        expect((res.body as ErrorResponse).error.code).toBe("unauthorized");
        expect(JSON.stringify(res.body)).not.toContain("owner's history");
      }
      expect(changedKeys(before, await snapshotPrefix(inspector, PREFIX))).toEqual([]);
      expect((await contents(owner, "target")).filter((m) => m.startsWith("user:"))).toEqual([
        "user: owner's history",
      ]);
    });
  });
});
