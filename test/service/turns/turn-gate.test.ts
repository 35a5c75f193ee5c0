import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureRedis, type RedisHandle } from "../../../lab/processes/redis-server.ts";
import type { ChatMessage } from "../../../service/contract.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import type { ConversationStore } from "../../../service/store/conversation-store.ts";
import { createRedisClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import { TurnGate, type TurnStrategy } from "../../../service/turns/turn-gate.ts";

const servedBy = { workerId: 1, pid: 1, hostname: "test" };
const pair = (turnId: string): ChatMessage[] => [
  { role: "user", content: `q ${turnId}`, turnId, servedBy, at: "" },
  { role: "assistant", content: `a ${turnId}`, turnId, servedBy, at: "" },
];

describe("TurnGate and the fenced append, against a real Redis", () => {
  let redis: RedisHandle;
  let client: Redis;
  let inspector: Redis;
  let store: RedisConversationStore;
  const created: string[] = [];
  let n = 0;
  const newKey = () => {
    const key = `agent-sandbox-test:{gate:${process.pid}:${Date.now()}:${n++}}`;
    created.push(...Object.values(conversationKeys(key)));
    return key;
  };
  const gate = (strategy: TurnStrategy, leaseMs = 5000, waitMs = 2000) =>
    new TurnGate({
      redis: client,
      store,
      strategy,
      leaseMs,
      waitMs,
      ttlSeconds: 60,
      contextWindow: 100,
    });
  // One turn as a chat service runs it, through the store its lease hands it: load, (think), append.
  const turn =
    (key: string, turnId: string, thinkMs = 0) =>
    async (leased: ConversationStore) => {
      const before = (await leased.load(key)).length;
      if (thinkMs) await sleep(thinkMs);
      return { before, after: await leased.append(key, pair(turnId)) };
    };

  beforeAll(async () => {
    redis = await ensureRedis();
    client = createRedisClient(redis.url);
    await waitUntilReady(client, 5000);
    inspector = new Redis(redis.url);
    store = new RedisConversationStore(client, 60);
  });
  afterAll(async () => {
    if (created.length) await inspector.del(...created);
    inspector?.disconnect();
    client?.disconnect();
    await redis?.stop();
  });

  it("runs a turn, then answers the same turnId from the store without running it again", async () => {
    const key = newKey();
    const first = await gate("reject").run(key, "t1", turn(key, "t1"));
    expect(first).toEqual({ ran: true, value: { before: 0, after: 2 } });
    let ranAgain = false;
    const again = await gate("reject").run(key, "t1", async () => {
      ranAgain = true;
    });
    expect(again).toEqual({ ran: false, position: 0 });
    expect(ranAgain).toBe(false);
    expect(await inspector.llen(conversationKeys(key).messages)).toBe(2);
  });

  it("reject: a second turn while one runs gets 409 conversation_busy; its retry gets turn_in_progress", async () => {
    const key = newKey();
    const running = gate("reject").run(key, "a", turn(key, "a", 300));
    await sleep(50);
    await expect(gate("reject").run(key, "b", turn(key, "b"))).rejects.toMatchObject({
      code: "conversation_busy",
    });
    await expect(gate("reject").run(key, "a", turn(key, "a"))).rejects.toMatchObject({
      code: "turn_in_progress",
    });
    await running;
    expect(await inspector.lrange(conversationKeys(key).messages, 0, -1)).toHaveLength(2);
  });

  it("enqueue: a second turn waits, then runs on the updated history", async () => {
    const key = newKey();
    const [a, b] = await Promise.all([
      gate("enqueue").run(key, "a", turn(key, "a", 200)),
      sleep(30).then(() => gate("enqueue").run(key, "b", turn(key, "b"))),
    ]);
    expect(a).toEqual({ ran: true, value: { before: 0, after: 2 } });
    expect(b).toEqual({ ran: true, value: { before: 2, after: 4 } });
  });

  it("enqueue: gives up after its wait with 409, storing nothing", async () => {
    const key = newKey();
    const running = gate("enqueue").run(key, "a", turn(key, "a", 400));
    await sleep(30);
    await expect(gate("enqueue", 5000, 100).run(key, "b", turn(key, "b"))).rejects.toMatchObject({
      code: "conversation_busy",
    });
    await running;
    expect(await inspector.llen(conversationKeys(key).messages)).toBe(2);
  });

  it("refuses the write of a turn whose lease expired and was taken over (fencing token)", async () => {
    const key = newKey();
    // Lease of 100 ms; the turn thinks for 300 ms, meanwhile another turn takes over.
    const slow = gate("reject", 100).run(key, "slow", turn(key, "slow", 300));
    await sleep(150);
    const other = await gate("reject").run(key, "other", turn(key, "other"));
    expect(other).toMatchObject({ ran: true });
    await expect(slow).rejects.toMatchObject({ code: "turn_fenced" });
    const stored = await store.load(key);
    expect(stored.map((m) => m.turnId)).toEqual(["other", "other"]);
  });

  it("refuses the write of a turn whose history changed since it loaded it (version)", async () => {
    const key = newKey();
    const result = gate("reject").run(key, "late", async (leased) => {
      await leased.load(key);
      // Someone writes behind the gate's back (an old worker, a script).
      await inspector.rpush(conversationKeys(key).messages, JSON.stringify(pair("sneaky")[0]));
      return leased.append(key, pair("late"));
    });
    await expect(result).rejects.toMatchObject({ code: "turn_fenced" });
    expect(await inspector.llen(conversationKeys(key).messages)).toBe(1);
  });
});
