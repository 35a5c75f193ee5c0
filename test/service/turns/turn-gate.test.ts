import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisHandle, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import type { ChatMessage } from "../../../service/contract.ts";
import { conversationKeys, scriptNamesBySha } from "../../../service/store/commands.ts";
import type { ConversationStore } from "../../../service/store/conversation-store.ts";
import { createRedisClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import { TurnGate, type TurnStrategy } from "../../../service/turns/turn-gate.ts";
import { latch, settledFlag, waitFor, within } from "../../helpers/wait-for.ts";

const servedBy = { workerId: 1, pid: 1, hostname: "test" };
const pair = (turnId: string): ChatMessage[] => [
  { role: "user", content: `q ${turnId}`, turnId, servedBy, at: "" },
  { role: "assistant", content: `a ${turnId}`, turnId, servedBy, at: "" },
];

// No fixed sleep decides an outcome here: a turn that must still run when another arrives is
// held open until the test releases it, and every wait is for an event (the turn started, the
// lease key is gone, Redis ran a command), each with a generous deadline.
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
  const gates: TurnGate[] = [];
  const gate = (strategy: TurnStrategy, leaseMs = 5000, waitMs = 2000, maxMs = 60_000) => {
    const made = new TurnGate({
      redis: client,
      store,
      strategy,
      leaseMs,
      maxMs,
      waitMs,
      ttlSeconds: 60,
      contextWindow: 100,
    });
    gates.push(made);
    return made;
  };
  // One turn as a chat service runs it, through the store its lease hands it: load, append.
  const turn = (key: string, turnId: string) => async (leased: ConversationStore) => {
    const before = (await leased.load(key)).length;
    return { before, after: await leased.append(key, pair(turnId)) };
  };
  // The same turn, held open between its load and its append (the agent "thinking") until the
  // test calls release(); `started` resolves once it runs, that is once it holds the lease.
  const heldTurn = (key: string, turnId: string) => {
    const started = latch();
    const released = latch();
    const body = async (leased: ConversationStore) => {
      const before = (await leased.load(key)).length;
      started.open();
      await released.promise;
      return { before, after: await leased.append(key, pair(turnId)) };
    };
    return {
      body,
      started: within(`turn ${turnId} to start`, started.promise),
      release: () => released.open(),
    };
  };
  const leaseHolder = (key: string) => inspector.get(conversationKeys(key).lease);
  const turnIds = async (key: string) => (await store.load(key)).map((m) => m.turnId);

  beforeAll(async () => {
    redis = await startPrivateRedis();
    client = createRedisClient(redis.url);
    await waitUntilReady(client, 5000);
    inspector = new Redis(redis.url);
    store = new RedisConversationStore(client, 60);
  });
  afterAll(async () => {
    for (const made of gates) made.close();
    if (created.length) await inspector.del(...created);
    inspector?.disconnect();
    client?.disconnect();
    await redis?.stop();
  });

  it("runs a turn, then answers the same turnId from the store without running it again", async () => {
    const key = newKey();
    const first = await gate("reject").run(key, "t1", turn(key, "t1"));
    expect(first).toMatchObject({ ran: true, value: { before: 0, after: 2 } });
    let ranAgain = false;
    const again = await gate("reject").run(key, "t1", async () => {
      ranAgain = true;
    });
    expect(again).toMatchObject({ ran: false, position: 0 });
    expect(ranAgain).toBe(false);
    expect(await inspector.llen(conversationKeys(key).messages)).toBe(2);
  });

  it("a turn that stores nothing gives its lease back and is not recorded as done", async () => {
    const key = newKey();
    const empty = await gate("reject").run(key, "e", (leased) => leased.append(key, []));
    expect(empty).toMatchObject({ ran: true, value: 0 });
    expect(await leaseHolder(key)).toBeNull();
    expect(await inspector.exists(conversationKeys(key).messages)).toBe(0);
    expect(await gate("reject").run(key, "e", turn(key, "e"))).toMatchObject({
      ran: true,
      value: { before: 0, after: 2 },
    });
  });

  it("reject: a second turn while one runs gets 409 conversation_busy; its retry gets turn_in_progress", async () => {
    const key = newKey();
    const a = heldTurn(key, "a");
    const running = gate("reject").run(key, "a", a.body);
    await a.started;
    // Turn a holds the conversation's lease, and keeps it until released.
    expect(await leaseHolder(key)).toMatch(/^\d+\.[0-9a-f]{12}:a$/);
    await expect(gate("reject").run(key, "b", turn(key, "b"))).rejects.toMatchObject({
      code: "conversation_busy",
    });
    await expect(gate("reject").run(key, "a", turn(key, "a"))).rejects.toMatchObject({
      code: "turn_in_progress",
    });
    a.release();
    expect(await running).toMatchObject({ ran: true, value: { before: 0, after: 2 } });
    expect(await inspector.lrange(conversationKeys(key).messages, 0, -1)).toHaveLength(2);
    expect(await turnIds(key)).toEqual(["a", "a"]);
    // Storing the turn also ended its lease.
    expect(await leaseHolder(key)).toBeNull();
  });

  it("never hands out a token twice, even when the lease and its counter were lost (a failover to a replica that lacks them)", async () => {
    const key = newKey();
    const keys = conversationKeys(key);
    const first = heldTurn(key, "a");
    const original = gate("reject").run(key, "a", first.body);
    await first.started;
    const firstHolder = await leaseHolder(key);
    // What a promoted replica that missed the last writes holds: no lease, the counter behind.
    await inspector.del(keys.lease, keys.fence);
    const second = heldTurn(key, "a");
    const retry = gate("reject").run(key, "a", second.body);
    await second.started;
    // The same counter was handed out again for the same turnId: the token still differs.
    const secondHolder = await leaseHolder(key);
    expect(String(secondHolder).split(".")[0]).toBe(String(firstHolder).split(".")[0]);
    expect(secondHolder).not.toBe(firstHolder);
    // So the original attempt, on the lost lease, is fenced while the retry holds its own...
    first.release();
    await expect(original).rejects.toMatchObject({ code: "turn_fenced" });
    expect(await inspector.llen(keys.messages)).toBe(0);
    // ...and the retry stores the turn, once.
    second.release();
    expect(await retry).toMatchObject({ ran: true, value: { before: 0, after: 2 } });
    expect(await turnIds(key)).toEqual(["a", "a"]);
  });

  it("enqueue: a second turn waits, then runs on the updated history", async () => {
    const key = newKey();
    const a = heldTurn(key, "a");
    const first = gate("enqueue").run(key, "a", a.body);
    await a.started;
    // Every attempt of turn b to take the conversation, as Redis runs it (MONITOR).
    const monitor = await inspector.monitor();
    const attemptsOfB: number[] = [];
    monitor.on("monitor", (_time: string, args: string[]) => {
      const command = String(args[0]).toLowerCase();
      const isScript = command === "evalsha" || command === "eval";
      if (isScript && args.includes(conversationKeys(key).lease) && args.includes("b"))
        attemptsOfB.push(attemptsOfB.length);
    });
    try {
      // A wait far longer than the test needs: b must wait for a, however slow the machine.
      const secondStarted = Date.now();
      const second = gate("enqueue", 5000, 30_000).run(key, "b", turn(key, "b"));
      const secondState = settledFlag(second);
      // Two attempts: the first found the conversation busy (a holds it), so b tried again.
      await waitFor("turn b to try twice", () => {
        if (secondState.settled) throw new Error("turn b ended while turn a still held the lease");
        return attemptsOfB.length >= 2;
      });
      expect(secondState.settled).toBe(false);
      expect(await leaseHolder(key)).toMatch(/^\d+\.[0-9a-f]{12}:a$/);
      const releasedAt = Date.now();
      a.release();
      const [ra, rb] = await Promise.all([first, second]);
      expect(ra).toMatchObject({ ran: true, value: { before: 0, after: 2 } });
      expect(rb).toMatchObject({ ran: true, value: { before: 2, after: 4 } });
      // The wait it reports (for the lease-wait metric) covers at least the time a held it.
      expect(rb.waitedMs).toBeGreaterThanOrEqual(releasedAt - secondStarted);
      expect(await turnIds(key)).toEqual(["a", "a", "b", "b"]);
    } finally {
      monitor.disconnect();
    }
  });

  it("enqueue: gives up after its wait with 409, storing nothing", async () => {
    const key = newKey();
    const a = heldTurn(key, "a");
    const running = gate("enqueue").run(key, "a", a.body);
    await a.started;
    // a is held until b has given up: b's 100 ms wait cannot outlast it, whatever the load.
    await expect(gate("enqueue", 5000, 100).run(key, "b", turn(key, "b"))).rejects.toMatchObject({
      code: "conversation_busy",
    });
    a.release();
    expect(await running).toMatchObject({ ran: true, value: { before: 0, after: 2 } });
    expect(await inspector.llen(conversationKeys(key).messages)).toBe(2);
    expect(await turnIds(key)).toEqual(["a", "a"]);
    // Nothing of b: not recorded as a completed turn either.
    expect(await inspector.hexists(conversationKeys(key).turns, "b")).toBe(0);
  });

  it("refuses the write of a runaway turn: past its longest time it stops renewing, its lease lapses and is taken over", async () => {
    const key = newKey();
    // A 100 ms lease and 100 ms in all: it stops renewing at once; another turn takes over.
    const slowTurn = heldTurn(key, "slow");
    const slow = gate("reject", 100, 2000, 100).run(key, "slow", slowTurn.body);
    const slowState = settledFlag(slow);
    await slowTurn.started;
    // Redis expires the lease by itself (EXISTS also expires a key past its time).
    await waitFor("the slow turn's lease to expire", async () => {
      return (await inspector.exists(conversationKeys(key).lease)) === 0;
    });
    const other = await gate("reject").run(key, "other", turn(key, "other"));
    expect(other).toMatchObject({ ran: true, value: { before: 0, after: 2 } });
    // The slow turn was still running all along; its write comes only now, and is refused.
    expect(slowState.settled).toBe(false);
    slowTurn.release();
    await expect(slow).rejects.toMatchObject({ code: "turn_fenced", reason: "lease_lost" });
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
    await expect(result).rejects.toMatchObject({ code: "turn_fenced", reason: "history_changed" });
    expect(await inspector.llen(conversationKeys(key).messages)).toBe(1);
  });

  it("keeps a turn three times longer than its lease: renewed while it runs, it completes once", async () => {
    const key = newKey();
    const longTurn = heldTurn(key, "long");
    // Renewed every third of its 2 s: only a stall of over 1.3 s in this process could lose it.
    const long = gate("reject", 2000).run(key, "long", longTurn.body);
    await longTurn.started;
    await new Promise((resolve) => setTimeout(resolve, 5000));
    // 2.5 leases later the conversation is still this turn's.
    await expect(gate("reject").run(key, "other", turn(key, "other"))).rejects.toMatchObject({
      code: "conversation_busy",
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    longTurn.release();
    expect(await long).toMatchObject({ ran: true, value: { before: 0, after: 2 } });
    expect(await turnIds(key)).toEqual(["long", "long"]);
  });

  it("fences a turn whose worker stalled past its lease: the renewal finds it gone and stores nothing", async () => {
    const key = newKey();
    const stalled = gate("reject", 300).run(key, "stalled", async (leased) => {
      await leased.load(key);
      // The event loop blocked for 1.5 leases: no renewal could run, Redis expired the lease.
      const until = Date.now() + 450;
      while (Date.now() < until) {}
      return leased.append(key, pair("stalled"));
    });
    await expect(stalled).rejects.toMatchObject({ code: "turn_fenced", reason: "lease_lost" });
    expect(await inspector.llen(conversationKeys(key).messages)).toBe(0);
  });

  it("enqueue: a waiting turn is woken by the release itself, not by polling", async () => {
    const key = newKey();
    const a = heldTurn(key, "a");
    const first = gate("enqueue").run(key, "a", a.body);
    await a.started;
    const monitor = await inspector.monitor();
    const attemptsOfB: string[] = [];
    const acquireSha = [...scriptNamesBySha()].find(([, name]) => name === "acquireTurn")?.[0];
    monitor.on("monitor", (_time: string, args: string[]) => {
      const isAcquire = String(args[0]).toLowerCase() === "evalsha" && args[1] === acquireSha;
      if (isAcquire && args.includes(conversationKeys(key).lease) && args.includes("b"))
        attemptsOfB.push("acquire");
    });
    try {
      const second = gate("enqueue", 5000, 30_000).run(key, "b", turn(key, "b"));
      // Held for 1.5 s: polling every few ms would ask dozens of times.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const beforeRelease = attemptsOfB.length;
      a.release();
      expect(await second).toMatchObject({ ran: true, value: { before: 2, after: 4 } });
      await first;
      // Asked, listened, asked again, then slept until the release (or a 1 s safety slice):
      // a handful of asks, where polling would make dozens. (The slice's ask can land on
      // either side of the release on a loaded machine.)
      expect(beforeRelease).toBeLessThanOrEqual(3);
      expect(attemptsOfB.length - beforeRelease).toBeGreaterThanOrEqual(1);
      expect(attemptsOfB.length).toBeLessThanOrEqual(4);
    } finally {
      monitor.disconnect();
    }
  });
});
