import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../lab/processes/free-port.ts";
import { type RedisHandle, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import type { ChatMessage } from "../../../service/contract.ts";
import { StoreUnavailableError, StoreWriteUncertainError } from "../../../service/errors.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import { createRedisClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import { TurnGate } from "../../../service/turns/turn-gate.ts";
import { waitFor } from "../../helpers/wait-for.ts";

const servedBy = { workerId: 1, pid: 1, hostname: "test" };
const message = (role: ChatMessage["role"], content: string, turnId: string): ChatMessage => ({
  role,
  content,
  turnId,
  servedBy,
  at: new Date(0).toISOString(),
});
const turnOf = (turnId: string) => [
  message("user", `q ${turnId}`, turnId),
  message("assistant", `a ${turnId}`, turnId),
];

/** The interleaving runs at least this many turns, and until the reader saw this many lengths. */
const MIN_TURNS = 100;
const MIN_LENGTHS_SEEN = 50;

/**
 * A second client reading one conversation over and over while it is written, each read one
 * MULTI/EXEC (a single instant of Redis): the list's length, its TTL, its last two messages,
 * and (`fenced`) the completed-turns record the fenced append keeps with it. Every instant it
 * can see must be a whole number of turns: an odd length, a list without its TTL, a last pair
 * that is not one turn's question and answer, or messages without their turn record would be
 * a step of the append caught half done.
 */
function watchConversation(url: string, conversation: string, fenced: boolean) {
  const reader = new Redis(url);
  const keys = conversationKeys(conversation);
  const lengths = new Set<number>();
  const halfDone = new Set<string>();
  let reads = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const replies = await reader
        .multi()
        .llen(keys.messages)
        .pttl(keys.messages)
        .lrange(keys.messages, -2, -1)
        .hlen(keys.turns)
        .pttl(keys.turns)
        .exec();
      if (!replies) throw new Error("the reader's MULTI/EXEC was aborted");
      const [length, ttlMs, lastTwo, turns, turnsTtlMs] = replies.map(([error, value]) => {
        if (error) throw error;
        return value;
      }) as [number, number, string[], number, number];
      reads++;
      lengths.add(length);
      if (length % 2 !== 0) halfDone.add("odd length");
      if (length > 0 && ttlMs <= 0) halfDone.add("list without its TTL");
      const [user, assistant] = lastTwo.map((raw) => JSON.parse(raw) as ChatMessage);
      if (
        length > 0 &&
        !(
          user?.role === "user" &&
          assistant?.role === "assistant" &&
          user.turnId === assistant.turnId
        )
      )
        halfDone.add("last two messages are not one turn");
      if (fenced && turns * 2 !== length) halfDone.add("messages without their turn record");
      if (fenced && turns > 0 && turnsTtlMs <= 0) halfDone.add("turn record without its TTL");
    }
  })();
  return {
    lengths,
    halfDone,
    reads: () => reads,
    stop: async () => {
      running = false;
      await loop;
      reader.disconnect();
    },
  };
}

describe("RedisConversationStore against a real Redis", () => {
  let redis: RedisHandle;
  let client: Redis;
  let inspector: Redis;
  let store: RedisConversationStore;
  const key = `agent-sandbox-test:{store:${process.pid}:${Date.now()}}`;
  const listKey = RedisConversationStore.messagesKey(key);
  const created: string[] = [listKey];
  let n = 0;
  const newKey = () => {
    const conversation = `agent-sandbox-test:{store:${process.pid}:${Date.now()}:${n++}}`;
    created.push(...Object.values(conversationKeys(conversation)));
    return conversation;
  };

  /**
   * Writes turns one after another (`write(i)`) while `watchConversation` reads: at least
   * MIN_TURNS of them, and on until the reader saw MIN_LENGTHS_SEEN distinct lengths, that is
   * until it demonstrably read between the appends (a generous deadline bounds the wait).
   */
  async function interleave(
    conversation: string,
    fenced: boolean,
    write: (i: number) => Promise<unknown>,
    enough = (watch: ReturnType<typeof watchConversation>, turns: number) =>
      turns >= MIN_TURNS && watch.lengths.size >= MIN_LENGTHS_SEEN,
  ) {
    const watch = watchConversation(redis.url, conversation, fenced);
    let turns = 0;
    try {
      await waitFor(
        "the reader to see the conversation between appends",
        async () => {
          await write(turns++);
          return enough(watch, turns);
        },
        { everyMs: 0 },
      );
    } finally {
      await watch.stop();
    }
    return { ...watch, turns };
  }

  beforeAll(async () => {
    redis = await startPrivateRedis();
    inspector = new Redis(redis.url);
    client = createRedisClient(redis.url);
    await waitUntilReady(client, 5000);
    store = new RedisConversationStore(client, 60);
  });
  afterAll(async () => {
    await inspector?.del(...created);
    inspector?.disconnect();
    await store?.close();
    await redis?.stop();
  });

  it("appends a turn's messages in order, as one step, and sets the idle expiry", async () => {
    expect(await store.load(key)).toEqual([]);
    expect(
      await store.append(key, [message("user", "hi", "t1"), message("assistant", "hello", "t1")]),
    ).toBe(2);
    expect(
      await store.append(key, [message("user", "more", "t2"), message("assistant", "ok", "t2")]),
    ).toBe(4);
    expect((await store.load(key)).map((m) => m.content)).toEqual(["hi", "hello", "more", "ok"]);
    const ttl = await inspector.ttl(listKey);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await store.ping()).toBe(true);

    // As one step: a second client reading all along never finds a turn half appended.
    const plain = newKey();
    const seen = await interleave(plain, false, async (i) => {
      expect(await store.append(plain, turnOf(`t${i}`))).toBe(2 * (i + 1));
    });
    expect([...seen.halfDone]).toEqual([]);
    expect(seen.lengths.size).toBeGreaterThanOrEqual(MIN_LENGTHS_SEEN);
    expect(seen.reads()).toBeGreaterThanOrEqual(MIN_LENGTHS_SEEN);
    expect((await store.load(plain)).map((m) => m.content)).toEqual(
      Array.from({ length: seen.turns }, (_, i) => [`q t${i}`, `a t${i}`]).flat(),
    );

    // The fenced append (a turn through the gate) stores the messages and the turn's record
    // together, and releases the lease in the same step.
    const gate = new TurnGate({
      redis: client,
      store,
      strategy: "reject",
      leaseMs: 60_000,
      maxMs: 60_000,
      waitMs: 0,
      ttlSeconds: 60,
      contextWindow: 100,
    });
    const fenced = newKey();
    const seenFenced = await interleave(fenced, true, async (i) => {
      const outcome = await gate.run(fenced, `t${i}`, (leased) =>
        leased.append(fenced, turnOf(`t${i}`)),
      );
      expect(outcome).toMatchObject({ ran: true, value: 2 * (i + 1) });
    });
    expect([...seenFenced.halfDone]).toEqual([]);
    expect(seenFenced.lengths.size).toBeGreaterThanOrEqual(MIN_LENGTHS_SEEN);
    expect(await inspector.llen(conversationKeys(fenced).messages)).toBe(2 * seenFenced.turns);
    expect(await inspector.hlen(conversationKeys(fenced).turns)).toBe(seenFenced.turns);
    expect(await inspector.exists(conversationKeys(fenced).lease)).toBe(0);
  });

  it("the reader above catches a turn appended in two steps (so the atomicity check can fail)", async () => {
    // The same turns, appended the naive way: one RPUSH per message, then EXPIRE.
    const writer = new Redis(redis.url);
    const naive = newKey();
    const list = conversationKeys(naive).messages;
    try {
      const seen = await interleave(
        naive,
        false,
        async (i) => {
          for (const m of turnOf(`t${i}`)) await writer.rpush(list, JSON.stringify(m));
          await writer.expire(list, 60);
        },
        (watch) => watch.halfDone.has("odd length"),
      );
      expect(seen.halfDone).toContain("odd length");
    } finally {
      writer.disconnect();
    }
  });

  it("reports a write that was sent but not confirmed as uncertain, never as 'not stored'", async () => {
    const uncertainKey = newKey();
    const uncertainList = RedisConversationStore.messagesKey(uncertainKey);
    // Redis holds writes for 30 s: far longer than the client's 1 s command timeout, so the
    // client gives up first however slow the machine is; then the test lets Redis go on.
    await inspector.call("CLIENT", "PAUSE", "30000", "WRITE");
    let failure: unknown;
    try {
      failure = await store
        .append(uncertainKey, [message("user", "maybe", "t9")])
        .catch((e: unknown) => e);
      // Still paused: nothing stored yet, whatever the client was told.
      expect(await inspector.llen(uncertainList)).toBe(0);
    } finally {
      await inspector.call("CLIENT", "UNPAUSE");
    }
    expect(failure).toBeInstanceOf(StoreWriteUncertainError);
    expect(failure).toMatchObject({ code: "store_write_uncertain" });
    // ...and indeed the write lands once Redis resumes: "timed out" did not mean "not stored".
    await waitFor(
      "the paused write to land",
      async () => (await inspector.llen(uncertainList)) > 0,
    );
    expect(await inspector.llen(uncertainList)).toBe(1);
    expect(await store.load(uncertainKey)).toEqual([message("user", "maybe", "t9")]);
    expect(await inspector.ttl(uncertainList)).toBeGreaterThan(0);
  });
});

describe("RedisConversationStore when Redis is down", () => {
  it("fails at once with a definite StoreUnavailableError and pings false", async () => {
    const client = createRedisClient(`redis://127.0.0.1:${await freePort()}`);
    client.on("error", () => {});
    const store = new RedisConversationStore(client, 60);
    try {
      await expect(store.load("k")).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.load("k")).rejects.toMatchObject({
        code: "store_unavailable",
      });
      await expect(store.append("k", [message("user", "x", "t")])).rejects.toMatchObject({
        code: "store_unavailable",
      });
      expect(await store.ping()).toBe(false);
    } finally {
      client.disconnect();
    }
  });
});
