import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppCluster, startAppCluster } from "../../../lab/processes/app-cluster.ts";
import { freePort } from "../../../lab/processes/free-port.ts";
import { startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import { startTcpProxy } from "../../../lab/processes/tcp-proxy.ts";
import { conversationKey } from "../../../service/auth/conversation-key.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import type {
  ErrorResponse,
  HealthResponse,
  MessagesResponse,
  TurnResponse,
} from "../../../service/contract.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import { type FixedApp, startFixedApp } from "../../helpers/fixed-app.ts";
import { client } from "../../helpers/http.ts";
import { sendExact } from "../../helpers/raw-http.ts";
import { changedKeys, snapshotPrefix } from "../../helpers/redis-snapshot.ts";

const SECRET = "contract-test-secret";
const PREFIX = "agent-sandbox:";
/** Small, so the limit is visibly the configured one and not the default 4000. */
const TEXT_MAX_CHARS = 50;

function expectError(res: { status: number; body: unknown }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect((res.body as ErrorResponse).error.code).toBe(code);
  expect(typeof (res.body as ErrorResponse).error.message).toBe("string");
}

describe("the HTTP contract, against a real fixed cluster and Redis", () => {
  let fixed: FixedApp;
  let app: AppCluster;
  let inspector: Redis;
  const identity = { tenant: "contract", user: `u${Date.now()}` };
  const token = issueToken(identity, SECRET);
  const keys = conversationKeys(conversationKey(PREFIX, identity, "conv"));
  const listKey = keys.messages;

  beforeAll(async () => {
    fixed = await startFixedApp({
      env: {
        AUTH_SECRET: SECRET,
        AGENT_LATENCY_MS: "0",
        BODY_LIMIT: "16kb",
        TEXT_MAX_CHARS: String(TEXT_MAX_CHARS),
      },
    });
    ({ app, inspector } = fixed);
  });
  afterAll(async () => {
    await inspector?.del(...Object.values(keys));
    await fixed?.stop();
  });

  it("answers a turn with the documented shape and worker headers", async () => {
    const api = client(app.url, token);
    const first = await api.turn("conv", { text: "hello" });
    expect(first.status).toBe(200);
    const body = first.body as TurnResponse;
    expect(body).toMatchObject({ conversationId: "conv", messagesSeen: 1 });
    expect(body.turnId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.servedBy).toEqual({
      workerId: expect.any(Number),
      pid: expect.any(Number),
      hostname: expect.any(String),
    });
    expect(first.headers["x-worker-id"]).toBe(String(body.servedBy.workerId));
    expect(first.headers["x-worker-pid"]).toBe(String(body.servedBy.pid));

    const second = await api.turn("conv", { text: "again", turnId: "my-turn-2" });
    expect(second.body).toMatchObject({ turnId: "my-turn-2", messagesSeen: 3 });

    const history = (await api.messages("conv")).body as MessagesResponse;
    expect(history.messages.map((m) => [m.role, m.turnId])).toEqual([
      ["user", body.turnId],
      ["assistant", body.turnId],
      ["user", "my-turn-2"],
      ["assistant", "my-turn-2"],
    ]);
    expect(await inspector.ttl(listKey)).toBeGreaterThan(0);
  });

  it("treats a repeated turnId (or Idempotency-Key) as the same turn: stored answer, nothing added", async () => {
    const api = client(app.url, token);
    const first = await api.turn("idem", { text: "only once" }, { "idempotency-key": "idem-1" });
    expect(first.status).toBe(200);
    const again = await api.turn("idem", { text: "only once", turnId: "idem-1" });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      turnId: "idem-1",
      replayed: true,
      reply: (first.body as TurnResponse).reply,
      messagesSeen: 1,
    });
    const history = (await api.messages("idem")).body as MessagesResponse;
    expect(history.messages).toHaveLength(2);
    await inspector.del(
      ...Object.values(conversationKeys(conversationKey(PREFIX, identity, "idem"))),
    );
  });

  it("returns an empty list for an unknown conversation", async () => {
    const res = await client(app.url, token).messages("never-written");
    expect(res.status).toBe(200);
    expect((res.body as MessagesResponse).messages).toEqual([]);
  });

  it("reports liveness and the store on /healthz without a token", async () => {
    const res = await client(app.url).get("/healthz");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      ok: true,
      app: "fixed",
      store: { backend: "redis", reachable: true },
    } satisfies Partial<HealthResponse>);
  });

  describe("rejects bad requests with a JSON error and changes nothing", () => {
    // A user of its own whose "conv" holds two turns before any of these tests runs: every
    // bad request below targets a conversation that exists, and each test checks by itself
    // that its request left every key in Redis as it was.
    const owner = { tenant: "contract", user: `bad${Date.now()}` };
    const ownerToken = issueToken(owner, SECRET);
    const ownerKeys = conversationKeys(conversationKey(PREFIX, owner, "conv"));
    beforeAll(async () => {
      const seed = client(app.url, ownerToken);
      for (const text of ["first", "second"]) {
        const res = await seed.turn("conv", { text });
        if (res.status !== 200)
          throw new Error(`seeding turn: ${res.status} ${JSON.stringify(res.body)}`);
      }
    });
    afterAll(async () => {
      await inspector?.del(...Object.values(ownerKeys));
    });

    /** Sends one bad request and proves it changed nothing: no key added, rewritten, refreshed. */
    async function unchanged<T>(send: () => Promise<T>): Promise<T> {
      const before = await snapshotPrefix(inspector, PREFIX);
      const res = await send();
      expect(changedKeys(before, await snapshotPrefix(inspector, PREFIX))).toEqual([]);
      return res;
    }

    it("the conversation they target holds its two turns: history, completed-turn index, fencing counter", async () => {
      expect(await inspector.lrange(ownerKeys.messages, 0, -1)).toHaveLength(4);
      const written = await inspector.keys(`${PREFIX}{contract:${owner.user}:*`);
      // The history, the completed-turn index and the fencing counter; no lease left behind.
      expect(written.sort()).toEqual([ownerKeys.fence, ownerKeys.messages, ownerKeys.turns].sort());
    });

    const anon = () => client(app.url);
    const api = () => client(app.url, ownerToken);
    const expired = () => issueToken(owner, SECRET, -60);
    const otherSecret = () => issueToken(owner, "some-other-secret");
    // Someone else's identity, carrying this token's (valid) signature.
    const tampered = () => {
      const signature = ownerToken.split(".")[1];
      const forged = Buffer.from(
        JSON.stringify({ ...owner, user: "someone-else", exp: 4102444800 }),
      ).toString("base64url");
      return `${forged}.${signature}`;
    };

    it.each([
      ["no Authorization header", () => anon().turn("conv", { text: "x" })],
      [
        "a non-Bearer scheme",
        () => anon().turn("conv", { text: "x" }, { authorization: "Basic abc" }),
      ],
      [
        "a malformed token",
        () => anon().turn("conv", { text: "x" }, { authorization: "Bearer abc" }),
      ],
      ["a tampered token", () => client(app.url, tampered()).turn("conv", { text: "x" })],
      [
        "a token signed with another secret",
        () => client(app.url, otherSecret()).turn("conv", { text: "x" }),
      ],
      ["an expired token", () => client(app.url, expired()).turn("conv", { text: "x" })],
      ["reading without a token", () => anon().messages("conv")],
    ])("401 for %s", async (_name, send) => {
      expectError(await unchanged(send), 401, "unauthorized");
    });

    it.each([
      ["invalid JSON", () => api().turn("conv", "{not json"), "invalid_json"],
      ["a missing text", () => api().turn("conv", {}), "invalid_body"],
      ["a text of the wrong type", () => api().turn("conv", { text: 42 }), "invalid_body"],
      ["an empty text", () => api().turn("conv", { text: "   " }), "invalid_body"],
      ["an unknown field", () => api().turn("conv", { text: "x", role: "system" }), "invalid_body"],
      ["a bad turnId", () => api().turn("conv", { text: "x", turnId: "a b" }), "invalid_body"],
      [
        "a bad Idempotency-Key",
        () => api().turn("conv", { text: "x" }, { "idempotency-key": "a b" }),
        "invalid_headers",
      ],
      [
        "a turnId that differs from the Idempotency-Key",
        () => api().turn("conv", { text: "x", turnId: "one" }, { "idempotency-key": "two" }),
        "invalid_body",
      ],
      ["a JSON array body", () => api().turn("conv", "[1,2]"), "invalid_body"],
      ["a JSON null body", () => api().turn("conv", "null"), "invalid_body"],
      ["a JSON string body", () => api().turn("conv", '"hello"'), "invalid_body"],
      ["a JSON number body", () => api().turn("conv", "42"), "invalid_body"],
      ["an empty body", () => api().turn("conv", ""), "invalid_body"],
      [
        "a __proto__ field",
        () => api().turn("conv", '{"text":"x","__proto__":{"text":"polluted"}}'),
        "invalid_body",
      ],
      [
        "a constructor.prototype field",
        () => api().turn("conv", '{"constructor":{"prototype":{"text":"polluted"}}}'),
        "invalid_body",
      ],
      [
        "a text over TEXT_MAX_CHARS",
        () => api().turn("conv", { text: "x".repeat(TEXT_MAX_CHARS + 1) }),
        "invalid_body",
      ],
      ["a lone surrogate in text", () => api().turn("conv", '{"text":"a\\ud800"}'), "invalid_body"],
      ["a NUL in text", () => api().turn("conv", { text: "a\u0000b" }), "invalid_body"],
      [
        "a bad X-Session",
        () => api().turn("conv", { text: "x" }, { "x-session": "a:b" }),
        "invalid_headers",
      ],
      [
        "a query string",
        () =>
          sendExact(app.port, {
            method: "POST",
            path: "/conversations/conv/turns?role=system",
            headers: { authorization: `Bearer ${ownerToken}`, "content-type": "application/json" },
            body: JSON.stringify({ text: "x" }),
          }),
        "invalid_params",
      ],
      ["a bad conversation id", () => api().turn("bad%20id", { text: "x" }), "invalid_params"],
      [
        "a too long conversation id",
        () => api().turn("c".repeat(101), { text: "x" }),
        "invalid_params",
      ],
      ["a bad conversation id on read", () => api().messages("a%7Bb%7D"), "invalid_params"],
    ])("400 for %s", async (_name, send, code) => {
      expectError(await unchanged(send), 400, code);
    });

    it.each([
      ["malformed percent-encoding", "POST", "/conversations/%E0%A4%A/turns"],
      ["an overlong UTF-8 escape", "POST", "/conversations/%C0%AF/turns"],
      ["an encoded path traversal", "POST", "/conversations/..%2F..%2Fhealthz/turns"],
      ["an encoded dot-dot", "GET", "/conversations/%2e%2e/messages"],
      ["Redis glob and hash-tag characters", "GET", "/conversations/%7Ba%7D%3A*/messages"],
    ])("400 invalid_params for %s in the path", async (_name, method, path) => {
      const res = await unchanged(() =>
        sendExact(app.port, {
          method,
          path,
          headers: { authorization: `Bearer ${ownerToken}`, "content-type": "application/json" },
          body: method === "POST" ? JSON.stringify({ text: "x" }) : undefined,
        }),
      );
      expectError(res, 400, "invalid_params");
    });

    it("400 invalid_json for a body that is not UTF-8", async () => {
      const res = await unchanged(() =>
        sendExact(app.port, {
          method: "POST",
          path: "/conversations/conv/turns",
          headers: { authorization: `Bearer ${ownerToken}`, "content-type": "application/json" },
          body: Buffer.concat([Buffer.from('{"text":"a'), Buffer.from([0xff]), Buffer.from('"}')]),
        }),
      );
      expectError(res, 400, "invalid_json");
    });

    it.each([
      ["text/plain", { "content-type": "text/plain" }],
      ["a form", { "content-type": "application/x-www-form-urlencoded" }],
      ["no content type", { "content-type": "" }],
      ["a charset other than UTF-8", { "content-type": "application/json; charset=latin1" }],
      ["a compressed body", { "content-encoding": "gzip" }],
    ])("415 unsupported_media_type for %s", async (_name, headers) => {
      expectError(
        await unchanged(() => api().turn("conv", { text: "x" }, headers)),
        415,
        "unsupported_media_type",
      );
    });

    it.each([
      ["DELETE", "/conversations/conv/turns", "POST"],
      ["GET", "/conversations/conv/turns", "POST"],
      ["PUT", "/conversations/conv/messages", "GET, HEAD"],
      ["POST", "/healthz", "GET, HEAD"],
    ])("405 method_not_allowed with Allow for %s %s", async (method, path, allow) => {
      const res = await unchanged(() => sendExact(app.port, { method, path, headers: {} }));
      expectError(res, 405, "method_not_allowed");
      expect(res.headers.allow).toBe(allow);
    });

    it("413 for a body over the limit", async () => {
      expectError(
        await unchanged(() => api().turn("conv", { text: "x".repeat(20_000) })),
        413,
        "body_too_large",
      );
    });

    it("404 JSON for an unknown route", async () => {
      const res = await unchanged(() => api().get("/nope"));
      expectError(res, 404, "not_found");
      expect(res.headers["x-worker-id"]).toBeDefined();
      expectError(await unchanged(() => api().get("/conversations/conv")), 404, "not_found");
    });
  });

  it("takes the text limit from TEXT_MAX_CHARS, counted in code points", async () => {
    const limitIdentity = { tenant: "contract", user: `limit${Date.now()}` };
    const api = client(app.url, issueToken(limitIdentity, SECRET));
    // Emoji are two UTF-16 units each but one character each: exactly at the limit passes.
    const atLimit = "😀".repeat(TEXT_MAX_CHARS);
    const res = await api.turn("limit", { text: atLimit });
    expect(res.status).toBe(200);
    expectError(await api.turn("limit", { text: `${atLimit}x` }), 400, "invalid_body");
    const history = (await api.messages("limit")).body as MessagesResponse;
    expect(history.messages[0]?.content).toBe(atLimit);
    await inspector.del(
      ...Object.values(conversationKeys(conversationKey(PREFIX, limitIdentity, "limit"))),
    );
  });
});

describe("the fixed app when Redis is unavailable", () => {
  it("answers 503 store_unavailable to turns and reads, and stays alive on /healthz", async () => {
    // A port that stays dead: held by a cut proxy (every connection dropped at once), so no
    // redis-server another test starts meanwhile can take it, as it could a merely free port.
    const dead = await startTcpProxy({ targetPort: await freePort() });
    dead.cut();
    const app = await startAppCluster({
      app: "fixed",
      scenario: "memory",
      workers: 2,
      env: { REDIS_URL: `redis://127.0.0.1:${dead.port}`, AUTH_SECRET: SECRET },
    });
    try {
      const api = client(app.url, issueToken({ tenant: "t", user: "u" }, SECRET));
      expectError(await api.turn("conv", { text: "hello" }), 503, "store_unavailable");
      expectError(await api.messages("conv"), 503, "store_unavailable");
      const health = await api.get("/healthz");
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({
        ok: true,
        store: { backend: "redis", reachable: false },
      });
    } finally {
      await app.stop();
      await dead.stop();
    }
  });

  it("stores nothing when Redis refuses the write (503, history unchanged)", async () => {
    const redis = await startPrivateRedis();
    // Changing ACLs is only acceptable on a Redis this test started itself.
    const admin = new Redis(redis.url);
    const app = await startAppCluster({
      app: "fixed",
      scenario: "memory",
      workers: 2,
      env: { REDIS_URL: redis.url, AUTH_SECRET: SECRET, AGENT_LATENCY_MS: "0" },
    });
    try {
      const api = client(app.url, issueToken({ tenant: "t", user: "acl" }, SECRET));
      expect((await api.turn("conv", { text: "kept" })).status).toBe(200);
      await admin.call("ACL", "SETUSER", "default", "-@write");
      expectError(await api.turn("conv", { text: "refused" }), 503, "store_unavailable");
      await admin.call("ACL", "SETUSER", "default", "+@all");
      const history = (await api.messages("conv")).body as MessagesResponse;
      expect(history.messages.map((m) => m.content)).toEqual([
        "kept",
        expect.stringContaining('You said "kept"'),
      ]);
    } finally {
      admin.disconnect();
      await app.stop();
      await redis.stop();
    }
  });
});
