// @vitest-environment node
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import {
  type CheckpointTuple,
  emptyCheckpoint,
  type PendingWrite,
  uuid6,
} from "@langchain/langgraph-checkpoint";
import { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RedisClusterHandle,
  startLocalRedisCluster,
} from "../../../lab/processes/redis-cluster.ts";
import { type PrivateRedis, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import { TurnFencedError } from "../../../service/errors.ts";
import {
  CheckpointConflictError,
  type CheckpointFence,
  RedisCheckpointSaver,
} from "../../../service/langgraph/redis-checkpointer.ts";
import { barrierKeys } from "./concurrent-writer.ts";

const WRITER = fileURLToPath(new URL("./concurrent-writer.ts", import.meta.url));
const META = { source: "loop" as const, step: 0, parents: {} };

/** A deterministic agent: answers from how many messages it has seen, no model, no network. */
function counterGraph(saver: RedisCheckpointSaver) {
  return new StateGraph(MessagesAnnotation)
    .addNode("answer", (state) => ({
      messages: [new AIMessage(`I have seen ${state.messages.length} message(s)`)],
    }))
    .addEdge(START, "answer")
    .addEdge("answer", END)
    .compile({ checkpointer: saver });
}

async function all(saver: RedisCheckpointSaver, threadId: string): Promise<CheckpointTuple[]> {
  const tuples: CheckpointTuple[] = [];
  for await (const tuple of saver.list({ configurable: { thread_id: threadId } })) {
    tuples.push(tuple);
  }
  return tuples;
}

/** Newest first, each checkpoint's parent is the next one, and only the oldest has none. */
function expectOneChain(tuples: CheckpointTuple[]): void {
  expect(tuples.length).toBeGreaterThan(0);
  for (const [i, tuple] of tuples.entries()) {
    const older = tuples[i + 1];
    expect(tuple.parentConfig?.configurable?.checkpoint_id).toBe(older?.checkpoint.id ?? undefined);
  }
}

/** Puts a root and a child of it: a thread to extend. */
async function seedThread(saver: RedisCheckpointSaver, threadId: string) {
  const root = await saver.put(
    { configurable: { thread_id: threadId } },
    { ...emptyCheckpoint(), id: uuid6(-1) },
    META,
    {},
  );
  return saver.put(root, { ...emptyCheckpoint(), id: uuid6(-1) }, { ...META, step: 1 }, {});
}

/** Runs concurrent-writer.ts as its own process; resolves with its one JSON line. */
async function runWriter(
  args: string[],
): Promise<{ outcome: string; id?: string; conflict?: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const [code] = await once(child, "exit");
  if (code !== 0) throw new Error(`writer exited with ${code}: ${err}`);
  return JSON.parse(out.trim().split("\n").pop() ?? "{}");
}

describe("RedisCheckpointSaver on a private redis-server", () => {
  let server: PrivateRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
  });

  afterAll(async () => {
    await redis?.quit();
    await server?.stop();
  });

  it("keeps a StateGraph's history across two invokes of one thread (fork guard on)", async () => {
    const saver = new RedisCheckpointSaver({ redis, keyPrefix: "graph:", forkGuard: true });
    const graph = counterGraph(saver);
    const config = { configurable: { thread_id: "chat{acme:ada:c1}" } };
    const first = await graph.invoke({ messages: [new HumanMessage("hello")] }, config);
    expect(first.messages.map((m) => m.content)).toEqual(["hello", "I have seen 1 message(s)"]);
    const second = await graph.invoke({ messages: [new HumanMessage("again")] }, config);
    expect(second.messages.map((m) => m.content)).toEqual([
      "hello",
      "I have seen 1 message(s)",
      "again",
      "I have seen 3 message(s)",
    ]);
    const state = await graph.getState(config);
    expect(state.values.messages).toHaveLength(4);
    expectOneChain(await all(saver, "chat{acme:ada:c1}"));
  });

  it("keepCheckpoints: only the newest checkpoints and the values they hold stay; the state is whole", async () => {
    const threadId = "chat{acme:ada:kept}";
    const keyPrefix = "kept:";
    const saver = new RedisCheckpointSaver({ redis, keyPrefix, keepCheckpoints: 2 });
    const graph = counterGraph(saver);
    const config = { configurable: { thread_id: threadId } };
    for (const text of ["one", "two", "three", "four"]) {
      await graph.invoke({ messages: [new HumanMessage(text)] }, config);
    }
    const state = await graph.getState(config);
    expect(state.values.messages).toHaveLength(8);
    const kept = await all(saver, threadId);
    expect(kept).toHaveLength(2);
    // Every value a kept checkpoint lists is there; nothing else is.
    const blobsKey = `${keyPrefix}${threadId}:t:blobs:`;
    const records = await redis.hvals(`${keyPrefix}${threadId}:t:checkpoints:`);
    const listed = new Set(records.flatMap((r) => (JSON.parse(r) as { blobs: string[] }).blobs));
    const stored = new Set(await redis.hkeys(blobsKey));
    for (const field of stored) expect(listed.has(field)).toBe(true);
    // Without the limit the same thread keeps every checkpoint: 3 per invoke (input, start, answer).
    const everything = new RedisCheckpointSaver({ redis, keyPrefix: "all:" });
    const full = counterGraph(everything);
    for (const text of ["one", "two", "three", "four"]) {
      await full.invoke({ messages: [new HumanMessage(text)] }, config);
    }
    expect(await all(everything, threadId)).toHaveLength(12);
    // And every version of every channel: the messages value alone, once per step.
    expect(await redis.hlen(`all:${threadId}:t:blobs:`)).toBeGreaterThan(stored.size + 4);
  });

  it("two processes writing one thread at once: one is refused, the chain never forks", async () => {
    const keyPrefix = "race:";
    const threadId = "chat{acme:bob:c2}";
    const saver = new RedisCheckpointSaver({ redis, keyPrefix, forkGuard: true });
    const read = await seedThread(saver, threadId);
    const barrier = barrierKeys(keyPrefix);
    const writers = ["a", "b"].map((name) => runWriter([server.url, keyPrefix, threadId, name]));
    // Both have read the same newest checkpoint once both are ready; one LPUSH releases both.
    const waiter = new Redis(server.url);
    for (let ready = 0; ready < 2; ready++) {
      expect(await waiter.blpop(barrier.ready, 30)).not.toBeNull();
    }
    await waiter.lpush(barrier.go, "go", "go");
    await waiter.quit();
    const outcomes = await Promise.all(writers);

    const stored = outcomes.filter((o) => o.outcome === "stored");
    const refused = outcomes.filter((o) => o.outcome === "CheckpointConflictError");
    expect(stored).toHaveLength(1);
    expect(refused).toEqual([
      { outcome: "CheckpointConflictError", conflict: "parent_not_latest" },
    ]);
    const chain = await all(saver, threadId);
    expect(chain).toHaveLength(3);
    expect(chain[0]?.checkpoint.id).toBe(stored[0]?.id);
    expect(chain[0]?.parentConfig?.configurable?.checkpoint_id).toBe(
      read.configurable?.checkpoint_id,
    );
    expectOneChain(chain);
  });

  it("the fork guard refuses a stale parent and an id that is not the newest", async () => {
    const saver = new RedisCheckpointSaver({ redis, keyPrefix: "guard:", forkGuard: true });
    const newest = await seedThread(saver, "t1");
    const [, oldest] = await all(saver, "t1");
    const stale = saver.put(
      oldest?.config ?? {},
      { ...emptyCheckpoint(), id: uuid6(-1) },
      META,
      {},
    );
    await expect(stale).rejects.toMatchObject({ conflict: "parent_not_latest" });
    const older = { ...emptyCheckpoint(), id: oldest?.checkpoint.id ?? "" };
    const rewind = saver.put(newest, older, META, {});
    await expect(rewind).rejects.toBeInstanceOf(CheckpointConflictError);
    await expect(rewind).rejects.toMatchObject({ conflict: "not_newer" });
    expect(await all(saver, "t1")).toHaveLength(2);
    // A put sent again (its reply was lost) is no fork: it is already the newest, not stored twice.
    const next = { ...emptyCheckpoint(), id: uuid6(-1) };
    const stored = await saver.put(newest, next, META, {});
    expect(await saver.put(newest, next, META, {})).toEqual(stored);
    expect(await all(saver, "t1")).toHaveLength(3);
  });

  describe("fenced by the turn's lease", () => {
    const threadId = "chat{acme:eve:c3}";
    const leaseKey = "chat{acme:eve:c3}:lease";
    const holder = "7.nonce:turn-1";
    let fence: CheckpointFence | undefined;
    const saver = () =>
      new RedisCheckpointSaver({ redis, keyPrefix: "fenced:", fence: () => fence });

    it("stores while the lease is the turn's", async () => {
      await redis.set(leaseKey, holder, "PX", 30_000);
      fence = { leaseKey, holder };
      const config = await seedThread(saver(), threadId);
      await saver().putWrites(config, [["messages", "hi"]], "task-1");
      expect((await saver().getTuple(config))?.pendingWrites).toEqual([
        ["task-1", "messages", "hi"],
      ]);
    });

    it.each([
      ["taken over by another turn", "8.other:turn-2"],
      ["expired", undefined],
    ])("refuses put and putWrites once the lease is %s, and stores nothing", async (_, now) => {
      fence = undefined;
      const before = await saver().getTuple({ configurable: { thread_id: threadId } });
      if (!before) throw new Error("no checkpoint stored by the previous test");
      if (now) await redis.set(leaseKey, now, "PX", 30_000);
      else await redis.del(leaseKey);
      fence = { leaseKey, holder };
      const put = saver().put(before.config, { ...emptyCheckpoint(), id: uuid6(-1) }, META, {});
      await expect(put).rejects.toBeInstanceOf(TurnFencedError);
      await expect(put).rejects.toMatchObject({ reason: "lease_lost" });
      const writes: PendingWrite[] = [["messages", "late"]];
      const putWrites = saver().putWrites(before.config, writes, "task-2");
      await expect(putWrites).rejects.toBeInstanceOf(TurnFencedError);
      fence = undefined;
      expect(await saver().getTuple({ configurable: { thread_id: threadId } })).toEqual(before);
      expect(await all(saver(), threadId)).toHaveLength(2);
    });

    it("a graph run whose lease was lost fails with TurnFencedError and leaves no checkpoint", async () => {
      await redis.set(leaseKey, "9.other:turn-3", "PX", 30_000);
      fence = { leaseKey, holder };
      const graph = counterGraph(saver());
      const run = graph.invoke(
        { messages: [new HumanMessage("hi")] },
        { configurable: { thread_id: "chat{acme:eve:c4}" } },
      );
      await expect(run).rejects.toBeInstanceOf(TurnFencedError);
      fence = undefined;
      expect(await all(saver(), "chat{acme:eve:c4}")).toEqual([]);
    });
  });

  it("deleteThread removes every key of the thread, every namespace", async () => {
    const saver = new RedisCheckpointSaver({ redis, keyPrefix: "delete:", ttlSeconds: 600 });
    const config = await seedThread(saver, "gone");
    await saver.putWrites(config, [["x", 1]], "task");
    await saver.put(
      { configurable: { thread_id: "gone", checkpoint_ns: "sub:1" } },
      { ...emptyCheckpoint(), id: uuid6(-1) },
      META,
      {},
    );
    const keys = await redis.keys("delete:*");
    expect(keys.length).toBeGreaterThan(4);
    for (const key of keys) expect(await redis.ttl(key)).toBeGreaterThan(0);
    await saver.deleteThread("gone");
    expect(await redis.keys("delete:*")).toEqual([]);
  });
});

/** The one slot every key of the thread is in (it fails if they are in several). */
async function oneSlot(client: Cluster, threadId: string): Promise<number> {
  const perNode = await Promise.all(
    client.nodes("master").map((node) => node.keys(`lg:*${threadId}*`)),
  );
  const keys = perNode.flat();
  expect(keys.length).toBeGreaterThanOrEqual(4);
  const slots = new Set(
    await Promise.all(keys.map((key) => client.cluster("KEYSLOT", key) as Promise<number>)),
  );
  expect(slots.size).toBe(1);
  return [...slots][0] ?? -1;
}

describe("RedisCheckpointSaver on a 3-master Redis Cluster", () => {
  let cluster: RedisClusterHandle;
  let client: Cluster;

  beforeAll(async () => {
    cluster = await startLocalRedisCluster();
    const nodes = cluster.ports.map((port) => ({ host: "127.0.0.1", port }));
    client = new Cluster(nodes);
    await once(client, "ready");
  }, 60_000);

  afterAll(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  it("put, putWrites, getTuple, list and deleteThread work with Cluster-safe keys", async () => {
    const holder = "1.n:turn";
    const leaseKey = "chat{acme:ada:c9}:lease";
    await client.set(leaseKey, holder);
    const fenced = new RedisCheckpointSaver({
      redis: client,
      keyPrefix: "lg:",
      forkGuard: true,
      fence: () => ({ leaseKey, holder }),
    });
    const plain = new RedisCheckpointSaver({ redis: client, keyPrefix: "lg:", forkGuard: true });
    const saverOf = (threadId: string) => (threadId.startsWith("chat") ? fenced : plain);
    const threads = ["chat{acme:ada:c9}", "plain-1", "plain-2", "plain-3"];
    for (const threadId of threads) {
      const config = await seedThread(saverOf(threadId), threadId);
      await saverOf(threadId).putWrites(config, [["messages", threadId]], "task");
    }
    const slots = new Set<number>();
    for (const threadId of threads) {
      const tuples = await all(plain, threadId);
      expect(tuples).toHaveLength(2);
      expectOneChain(tuples);
      expect(tuples[0]?.pendingWrites).toEqual([["task", "messages", threadId]]);
      expect(await plain.getTuple({ configurable: { thread_id: threadId } })).toEqual(tuples[0]);
      slots.add(await oneSlot(client, threadId));
    }
    expect(slots.size).toBe(threads.length);
    // The conversation's own keys (its lease) share the slot of its checkpoints.
    expect(await client.cluster("KEYSLOT", leaseKey)).toBe(await oneSlot(client, threads[0] ?? ""));
    // A fence outside the thread's slot is refused before Redis would answer CROSSSLOT.
    const crossSlot = fenced.put(
      { configurable: { thread_id: "plain-1" } },
      { ...emptyCheckpoint(), id: uuid6(-1) },
      META,
      {},
    );
    await expect(crossSlot).rejects.toBeInstanceOf(RangeError);
    const everything: CheckpointTuple[] = [];
    for await (const tuple of plain.list({ configurable: {} })) everything.push(tuple);
    expect(everything).toHaveLength(2 * threads.length);
    for (const threadId of threads) await plain.deleteThread(threadId);
    const left = await Promise.all(client.nodes("master").map((node) => node.keys("lg:*")));
    expect(left.flat()).toEqual([]);
  }, 60_000);
});
