import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SeenCommand, watchCommands } from "../../../lab/processes/redis-monitor.ts";
import { type RedisHandle, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import { conversationKey } from "../../../service/auth/conversation-key.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import type { ChatService, ConversationRef } from "../../../service/chat/chat-service.ts";
import { StoredChatService } from "../../../service/chat/stored-chat-service.ts";
import { loadConfig } from "../../../service/config.ts";
import type {
  ChatMessage,
  ErrorResponse,
  MessagesPageResponse,
  MessagesResponse,
} from "../../../service/contract.ts";
import { type RunningServer, startServer } from "../../../service/server.ts";
import type { ConversationStore } from "../../../service/store/conversation-store.ts";
import { createRedisClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import { client } from "../../helpers/http.ts";
import { changedKeys, snapshotPrefix } from "../../helpers/redis-snapshot.ts";

const SECRET = "messages-route-test-secret";
const PREFIX = "agent-sandbox-test:";
const servedBy = { workerId: 7, pid: 7, hostname: "messages-route-test" };
const identity = { tenant: "pages", user: `u${process.pid}` };
const token = issueToken(identity, SECRET);
const LONG = 5000;

const messageAt = (position: number): ChatMessage => ({
  role: position % 2 === 0 ? "user" : "assistant",
  content: `message ${position}`,
  turnId: `t${Math.floor(position / 2)}`,
  servedBy,
  at: new Date(0).toISOString(),
});
const keyOf = (conversationId: string) => conversationKey(PREFIX, identity, conversationId);

/** A ChatService as the lesson variants that keep no store are: no historyPage of its own. */
class WholeHistoryOnly implements ChatService {
  readonly backend = "redis";
  constructor(private readonly store: ConversationStore) {}
  handleTurn(): never {
    throw new Error("this test only reads");
  }
  history(ref: ConversationRef): Promise<ChatMessage[]> {
    return this.store.load(ref.key);
  }
  storeReachable(): Promise<boolean> {
    return this.store.ping();
  }
  async close(): Promise<void> {}
}

describe("GET /conversations/:id/messages?limit&before, against a real Redis", () => {
  let redis: RedisHandle;
  let inspector: Redis;
  let store: RedisConversationStore;
  let paged: RunningServer;
  let fallback: RunningServer;
  const api = () => client(`http://127.0.0.1:${paged.port}`, token);
  const fallbackApi = () => client(`http://127.0.0.1:${fallback.port}`, token);

  /** Stores `count` messages under the conversation, in batches (one atomic append each). */
  async function seed(conversationId: string, count: number): Promise<void> {
    for (let start = 0; start < count; start += 500) {
      const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) =>
        messageAt(start + i),
      );
      await store.append(keyOf(conversationId), batch);
    }
  }

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const redisClient = createRedisClient(redis.url);
    inspector = createRedisClient(redis.url);
    await Promise.all([waitUntilReady(redisClient, 5000), waitUntilReady(inspector, 5000)]);
    store = new RedisConversationStore(redisClient, 600);
    const config = loadConfig({ AUTH_SECRET: SECRET, REDIS_KEY_PREFIX: PREFIX });
    const deps = { config, redisStore: () => store };
    const common = { app: "fixed", scenario: "pages", config, servedBy, port: 0 };
    paged = await startServer({ ...common, service: new StoredChatService(deps) });
    fallback = await startServer({ ...common, service: new WholeHistoryOnly(store) });
    await seed("long", LONG);
    await seed("short", 23);
  });
  afterAll(async () => {
    await fallback?.stop();
    await paged?.stop();
    inspector?.disconnect();
    await redis?.stop();
  });

  /** GET one page; fails the test on anything but a 200. */
  async function page(
    conversationId: string,
    query: string,
    from = api(),
  ): Promise<MessagesPageResponse> {
    const res = await from.get(`/conversations/${conversationId}/messages?${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as MessagesPageResponse;
  }

  /** Every page from the newest back, following `before` until it is null (or far too long). */
  async function allPages(conversationId: string, limit: number, from = api()) {
    const pages = [await page(conversationId, `limit=${limit}`, from)];
    let before = pages[0]?.before ?? null;
    while (before !== null && pages.length <= LONG) {
      const next = await page(conversationId, `limit=${limit}&before=${before}`, from);
      pages.push(next);
      before = next.before;
    }
    return pages;
  }

  it("pages a 5,000-message history back in full: 5 pages of 1,000, then before is null", async () => {
    const whole = (await api().messages("long")).body as MessagesResponse;
    expect(whole).toEqual({ conversationId: "long", messages: whole.messages, servedBy });
    expect(whole.messages).toHaveLength(LONG);

    const pages = await allPages("long", 1000);
    expect(pages.map((p) => p.before)).toEqual(["4000", "3000", "2000", "1000", null]);
    expect(pages.map((p) => p.messages.length)).toEqual([1000, 1000, 1000, 1000, 1000]);
    for (const p of pages) {
      expect(Object.keys(p).sort()).toEqual(["before", "conversationId", "messages", "servedBy"]);
      expect(p).toMatchObject({ conversationId: "long", servedBy });
    }

    const joined = [...pages].reverse().flatMap((p) => p.messages);
    expect(joined).toEqual(whole.messages);
    expect(new Set(joined.map((m) => m.content)).size).toBe(LONG);
  });

  it("answers without limit exactly as before: the whole history and no before field", async () => {
    const res = await api().messages("short");
    expect(res.status).toBe(200);
    expect(Object.keys(res.body as object).sort()).toEqual([
      "conversationId",
      "messages",
      "servedBy",
    ]);
    expect((res.body as MessagesResponse).messages).toEqual(
      Array.from({ length: 23 }, (_, i) => messageAt(i)),
    );
  });

  it("reads each page with one bounded Redis command, never LRANGE 0 -1", async () => {
    const list = RedisConversationStore.messagesKey(keyOf("long"));
    // The first call of a script on a fresh Redis is EVALSHA, NOSCRIPT, then EVAL: load it first.
    await page("short", "limit=1");
    const watch = await watchCommands(redis.url);
    const commandsOf: SeenCommand[][] = [];
    try {
      const pages = await watch.during(() => allPages("long", 1000));
      expect(pages.result).toHaveLength(5);
      commandsOf.push(pages.commands);
      const odd = await watch.during(() => page("long", "limit=3&before=2"));
      expect(odd.result.messages.map((m) => m.content)).toEqual(["message 0", "message 1"]);
      commandsOf.push(odd.commands);
    } finally {
      watch.stop();
    }
    expect(commandsOf).toEqual([
      [
        ["evalsha", "loadRecent", "1", list, "1000"],
        ["lrange", list, "3000", "3999"],
        ["lrange", list, "2000", "2999"],
        ["lrange", list, "1000", "1999"],
        ["lrange", list, "0", "999"],
      ],
      [["lrange", list, "0", "1"]],
    ]);
  });

  describe("rejects bad query parameters with 400 invalid_params and changes nothing", () => {
    it.each([
      ["an unknown parameter", "limit=10&cursor=5"],
      ["an unknown parameter alone", "offset=0"],
      ["a repeated limit", "limit=10&limit=20"],
      ["a repeated before", "limit=10&before=100&before=200"],
      ["a limit of 0", "limit=0"],
      ["a limit over 1000", "limit=1001"],
      ["a negative limit", "limit=-5"],
      ["a fractional limit", "limit=2.5"],
      ["a limit in exponent form", "limit=1e3"],
      ["a limit that is not a number", "limit=ten"],
      ["an empty limit", "limit="],
      ["a bracketed limit", "limit[]=5"],
      ["a negative cursor", "limit=10&before=-1"],
      ["a cursor that is not a number", "limit=10&before=abc"],
      ["a cursor with leading zeros", "limit=10&before=0100"],
      ["a cursor too large to be exact", "limit=10&before=99999999999999999"],
      ["an empty cursor", "limit=10&before="],
      ["before without limit", "before=100"],
    ])("%s (?%s)", async (_name, query) => {
      const before = await snapshotPrefix(inspector, PREFIX);
      const res = await api().get(`/conversations/short/messages?${query}`);
      expect(res.status).toBe(400);
      const { error } = res.body as ErrorResponse;
      expect(error.code).toBe("invalid_params");
      expect(error.message).toMatch(/limit|before|query parameter/);
      expect(changedKeys(before, await snapshotPrefix(inspector, PREFIX))).toEqual([]);
      expect(await store.load(keyOf("short"))).toHaveLength(23);
    });
  });

  it("answers an unknown conversation with no messages and before null", async () => {
    const body = await page("never-written", "limit=10");
    expect(body).toEqual({ conversationId: "never-written", messages: [], before: null, servedBy });
  });

  it("gives identical pages from a service without historyPage (cut from history())", async () => {
    const queries = ["limit=1", "limit=5", "limit=23", "limit=1000", "limit=5&before=18"];
    queries.push("limit=5&before=3", "limit=4&before=0", "limit=4&before=40", "limit=4&before=25");
    for (const query of queries) {
      expect(await page("short", query, fallbackApi()), query).toEqual(await page("short", query));
    }
    for (const limit of [1, 4, 23]) {
      expect(await allPages("short", limit, fallbackApi())).toEqual(await allPages("short", limit));
    }
    expect(await allPages("long", 1000, fallbackApi())).toEqual(await allPages("long", 1000));
    const bad = await fallbackApi().get("/conversations/short/messages?before=1");
    expect((bad.body as ErrorResponse).error.code).toBe("invalid_params");
  });
});
