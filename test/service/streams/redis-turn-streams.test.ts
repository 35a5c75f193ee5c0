import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PrivateRedis, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import type { ChatMessage } from "../../../service/contract.ts";
import { TurnFencedError } from "../../../service/errors.ts";
import { conversationKeys, streamKeyOf } from "../../../service/store/commands.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import {
  RedisTurnStreams,
  type RedisTurnStreamsOptions,
} from "../../../service/streams/redis-turn-streams.ts";
import type { StreamEvent, StreamRef } from "../../../service/streams/turn-streams.ts";
import { turnRecordOf } from "../../../service/turns/leased-store.ts";
import { TurnGate } from "../../../service/turns/turn-gate.ts";

const servedBy = { workerId: 1, pid: 1, hostname: "test" };
const pair = (turnId: string, reply: string): ChatMessage[] => [
  { role: "user", content: `q ${turnId}`, turnId, servedBy, at: "" },
  { role: "assistant", content: reply, turnId, servedBy, at: "" },
];

/** Every event `follow` gives, to its end (or until `limit` events). */
async function readAll(
  streams: RedisTurnStreams,
  ref: StreamRef,
  afterId = 0,
  producing = false,
): Promise<StreamEvent[] | undefined> {
  const events = await streams.follow(ref, afterId, new AbortController().signal, producing);
  if (!events) return undefined;
  const seen: StreamEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
}

const texts = (events: StreamEvent[] = []) =>
  events.map((e) =>
    e.event === "delta" ? (JSON.parse(e.data) as { text: string }).text : e.event,
  );

describe("RedisTurnStreams: a turn's events in a Redis Stream, readable from any process", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let n = 0;
  const newRef = (): StreamRef => ({
    key: `streams-test:{acme:ada:${process.pid}-${n++}}`,
    turnId: "t1",
  });
  const options: RedisTurnStreamsOptions = {
    ttlSeconds: 60,
    flushMs: 0,
    maxEvents: 1000,
    leased: false,
  };
  /** Producers without a lease (an app without a turn gate): readers never interrupt them. */
  let streams: RedisTurnStreams;
  /** Producers that hold their turn's lease (a turn gate): a stream without one has ended. */
  let gated: RedisTurnStreams;
  /** A producer holding its turn's lease, as under a turn gate, and that lease's key. */
  const leasedProducer = async (ref: StreamRef) => {
    const leaseKey = conversationKeys(ref.key).lease;
    await redis.set(leaseKey, "1.aaa:t1", "PX", 5000);
    return { producer: gated.producer(ref, { leaseKey, holder: "1.aaa:t1" }), leaseKey };
  };

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    streams = new RedisTurnStreams(redis, options);
    gated = new RedisTurnStreams(redis, { ...options, leased: true });
  });

  afterAll(async () => {
    await streams?.close();
    await gated?.close();
    redis?.disconnect();
    await server?.stop();
  });

  it("keeps the events with consecutive ids; a reader from id n gets exactly the rest", async () => {
    const ref = newRef();
    const producer = streams.producer(ref);
    await producer.open();
    for (const word of ["Hello ", "there, ", "Ada."]) producer.delta(word);
    await producer.finish(JSON.stringify({ reply: "Hello there, Ada." }));
    const all = await readAll(streams, ref);
    expect(all?.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    expect(texts(all)).toEqual(["Hello ", "there, ", "Ada.", "done"]);
    expect(texts(await readAll(streams, ref, 2))).toEqual(["Ada.", "done"]);
    // A reader that already has everything gets nothing, and the read ends.
    expect(await readAll(streams, ref, 4)).toEqual([]);
    expect(await redis.ttl(streamKeyOf(ref.key, ref.turnId))).toBeGreaterThan(50);
  });

  it("a reader that starts first gets the events as they are written, then the end", async () => {
    const ref = newRef();
    const producer = streams.producer(ref);
    await producer.open();
    producer.delta("first ");
    await producer.flush();
    const reading = readAll(streams, ref);
    producer.delta("second");
    await producer.fail({ code: "model_error", message: "the model went away" });
    const events = await reading;
    expect(texts(events)).toEqual(["first ", "second", "error"]);
    expect(JSON.parse(events?.at(-1)?.data ?? "{}")).toEqual({
      error: { code: "model_error", message: "the model went away" },
    });
  });

  it("batches deltas by STREAM_FLUSH_MS: the first at once, the rest together once the reply is complete", async () => {
    const ref = newRef();
    // A flush interval longer than the test's timeout: only flush() can bring the rest out.
    const slow = new RedisTurnStreams(redis, { ...options, flushMs: 120_000 });
    try {
      const producer = slow.producer(ref);
      await producer.open();
      for (const word of ["one ", "two ", "three"]) producer.delta(word);
      await producer.flush();
      await producer.finish("{}");
      expect(texts(await readAll(slow, ref))).toEqual(["one ", "two ", "three", "done"]);
      // Three writes: "one " alone, then "two " and "three" in one batch, then done.
      const entries = await redis.xrange(streamKeyOf(ref.key, ref.turnId), "-", "+");
      expect(entries.map(([id]) => id)).toEqual(["0-1", "0-2", "0-3", "0-4"]);
    } finally {
      await slow.close();
    }
  });

  it("is undefined for a turn that never streamed", async () => {
    expect(await readAll(streams, newRef())).toBeUndefined();
  });

  it("a new attempt of the turn starts its stream afresh", async () => {
    const ref = newRef();
    const first = streams.producer(ref);
    await first.open();
    first.delta("old ");
    await first.fail({ code: "turn_interrupted", message: "gone" });
    const second = streams.producer(ref);
    await second.open();
    second.delta("new");
    await second.finish("{}");
    expect(texts(await readAll(streams, ref))).toEqual(["new", "done"]);
  });

  it("a producer whose lease is gone writes nothing: its flush says so", async () => {
    const ref = newRef();
    const leaseKey = conversationKeys(ref.key).lease;
    await redis.set(leaseKey, "7.abc:t1", "PX", 5000);
    const holder = { leaseKey, holder: "7.abc:t1" };
    const producer = streams.producer(ref, holder);
    await producer.open();
    producer.delta("kept ");
    await producer.flush();
    // Another attempt took the conversation over: this producer is fenced.
    await redis.set(leaseKey, "8.def:t1", "PX", 5000);
    producer.delta("fenced");
    await expect(producer.flush()).rejects.toBeInstanceOf(TurnFencedError);
    await expect(producer.fail({ code: "x", message: "y" })).rejects.toBeInstanceOf(
      TurnFencedError,
    );
    expect(await redis.xlen(streamKeyOf(ref.key, ref.turnId))).toBe(1);
  });

  it("ends the stream of a turn that lost its lease with turn_interrupted, once, for every reader", async () => {
    const ref = newRef();
    const { producer, leaseKey } = await leasedProducer(ref);
    await producer.open();
    producer.delta("half a ");
    await producer.flush();
    // The producing worker dies: its lease lapses (deleted here, as its expiry would).
    await redis.del(leaseKey);
    const [a, b] = await Promise.all([readAll(gated, ref), readAll(gated, ref, 1)]);
    expect(texts(a)).toEqual(["half a ", "error"]);
    expect(b).toEqual(a?.slice(1));
    expect(JSON.parse(a?.at(-1)?.data ?? "{}").error.code).toBe("turn_interrupted");
    expect(await redis.xlen(streamKeyOf(ref.key, ref.turnId))).toBe(2);
  });

  it("ends with turn_interrupted, as event 1, a stream whose producer died before its first event", async () => {
    const ref = newRef();
    const { producer, leaseKey } = await leasedProducer(ref);
    await producer.open();
    // A resume that finds the turn running, before it wrote anything.
    const reading = readAll(gated, ref);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The producing worker dies there: its lease lapses (deleted here, as its expiry would).
    await redis.del(leaseKey);
    const events = await reading;
    expect(events?.map((e) => [e.id, e.event])).toEqual([[1, "error"]]);
    expect(JSON.parse(events?.[0]?.data ?? "{}").error.code).toBe("turn_interrupted");
    // A reader that never saw it running finds that end too; a turn never started stays unknown.
    expect(texts(await readAll(gated, ref))).toEqual(["error"]);
    expect(await readAll(gated, newRef())).toBeUndefined();
  });

  it("without leases, the turn's own reader waits for a first event slower than one blocking read", async () => {
    const ref = newRef();
    const producer = streams.producer(ref);
    await producer.open();
    const reading = readAll(streams, ref, 0, true);
    await new Promise((resolve) => setTimeout(resolve, 700));
    producer.delta("slow first word");
    await producer.finish("{}");
    expect(texts(await reading)).toEqual(["slow first word", "done"]);
  });

  it("without leases, a reader never ends a stream on its own: it waits for the producer", async () => {
    const ref = newRef();
    const producer = streams.producer(ref);
    await producer.open();
    producer.delta("slow ");
    await producer.flush();
    const reading = readAll(streams, ref);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await producer.finish("{}");
    expect(texts(await reading)).toEqual(["slow ", "done"]);
  });

  it("keeps waiting while the turn holds its lease, however long nothing comes", async () => {
    const ref = newRef();
    const { producer } = await leasedProducer(ref);
    await producer.open();
    const reading = readAll(gated, ref);
    // Longer than one blocking read (500 ms): the reader asks, finds the turn running, waits on.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    producer.delta("late");
    await producer.finish("{}");
    expect(texts(await reading)).toEqual(["late", "done"]);
  });

  it("done is appended in the same script as the turn's messages (the fenced append)", async () => {
    const ref = newRef();
    const store = new RedisConversationStore(redis, 60);
    const gate = new TurnGate({
      redis,
      store,
      strategy: "reject",
      leaseMs: 5000,
      maxMs: 60_000,
      waitMs: 0,
      ttlSeconds: 60,
      contextWindow: 10,
    });
    try {
      await gate.run(ref.key, ref.turnId, async (leased) => {
        const producer = gated.producer(ref, turnRecordOf(leased.lease));
        await producer.open();
        leased.holdWrites();
        producer.delta("the ");
        producer.delta("reply");
        // Held: nothing stored yet, and no done in the stream.
        expect(await leased.append(ref.key, pair(ref.turnId, "the reply"))).toBe(2);
        await producer.flush();
        expect(await redis.llen(conversationKeys(ref.key).messages)).toBe(0);
        await leased.commit(producer.doneWithCommit('{"reply":"the reply"}'));
      });
      const events = await readAll(gated, ref);
      expect(texts(events)).toEqual(["the ", "reply", "done"]);
      expect(events?.at(-1)?.id).toBe(3);
      expect(await redis.llen(conversationKeys(ref.key).messages)).toBe(2);
      expect(await redis.hget(conversationKeys(ref.key).turns, ref.turnId)).toBe("0");
      expect(await redis.exists(conversationKeys(ref.key).lease)).toBe(0);
    } finally {
      gate.close();
    }
  });
});
