import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentChatService as FixedMemoryService } from "../../../fixed/memory/chat-service.ts";
import { type PrivateRedis, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import type { ChatService, Turn } from "../../../service/chat/chat-service.ts";
import { StoredChatService } from "../../../service/chat/stored-chat-service.ts";
import { loadConfig } from "../../../service/config.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import { createRedisClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";

const METHODS = ["handleTurn", "history", "historyPage", "storeReachable", "close"] as const;

/** A method's source as the module loader emitted it, without its names for imported bindings. */
function sourceOf(method: (...args: never[]) => unknown): string {
  const binding = String.raw`(?:__vi_import_\d+__|import_[\w$]+)`;
  return method
    .toString()
    .replace(new RegExp(String.raw`\(0,\s*${binding}\.([\w$]+)\)`, "g"), "$1")
    .replace(new RegExp(String.raw`${binding}\.([\w$]+)`, "g"), "$1")
    .replace(/\s+/g, " ");
}

describe("fixed/memory is StoredChatService written out for the lesson's diff", () => {
  it("has the same code in every method the HTTP layer calls", () => {
    for (const method of METHODS) {
      const fixed = sourceOf(FixedMemoryService.prototype[method]);
      expect(fixed, method).toBe(sourceOf(StoredChatService.prototype[method]));
      expect(fixed).toContain(method);
    }
  });

  describe("and the same behaviour against a real Redis", () => {
    let redis: PrivateRedis;
    const clients: ReturnType<typeof createRedisClient>[] = [];
    beforeAll(async () => {
      redis = await startPrivateRedis();
    });
    afterAll(async () => {
      for (const client of clients) client.disconnect();
      await redis?.stop();
    });

    /** Three turns of one conversation through a service; what it answered and stored. */
    async function converse(
      make: (deps: {
        config: ReturnType<typeof loadConfig>;
        redisStore: () => RedisConversationStore;
      }) => ChatService,
      prefix: string,
    ) {
      const client = createRedisClient(redis.url);
      clients.push(client);
      await waitUntilReady(client, 5000);
      const store = new RedisConversationStore(client, 60);
      const config = loadConfig({ CONTEXT_WINDOW_MESSAGES: "3", REDIS_KEY_PREFIX: prefix });
      const service = make({ config, redisStore: () => store });
      const key = `${prefix}{c}`;
      const results = [];
      for (const [i, text] of ["Hi, I am Ada.", "I like tea.", "What is my name?"].entries()) {
        const turn: Turn = {
          key,
          conversationId: "c",
          turnId: `t${i}`,
          text,
          servedBy: { workerId: 1, pid: 1, hostname: "h" },
        };
        const { key: usedKey, ...result } = await service.handleTurn(turn);
        expect(usedKey).toBe(key);
        results.push(result);
      }
      const stored = (await service.history({ key, conversationId: "c" })).map(({ at, ...m }) => m);
      expect(await client.exists(conversationKeys(key).messages)).toBe(1);
      return { results, stored };
    }

    it("answers and stores the same", async () => {
      const fixed = await converse((deps) => new FixedMemoryService(deps), "fixed-memory:");
      const shared = await converse((deps) => new StoredChatService(deps), "stored:");
      expect(fixed).toEqual(shared);
      // The context window of 3 is honoured: the third turn saw 3 earlier messages, not 4.
      expect(fixed.results.map((r) => r.messagesSeen)).toEqual([1, 3, 4]);
      expect(fixed.results.map((r) => [r.before, r.after])).toEqual([
        [0, 2],
        [2, 4],
        [4, 6],
      ]);
    });
  });
});
