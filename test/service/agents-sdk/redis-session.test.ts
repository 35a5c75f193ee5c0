import {
  Agent,
  type AgentInputItem,
  MemorySession,
  type Model,
  type ModelRequest,
  type ModelResponse,
  Runner,
  type SessionHistoryTransactionArgs,
  type StreamEvent,
  Usage,
} from "@openai/agents-core";
import fc from "fast-check";
import { type Cluster, Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../lab/processes/free-port.ts";
import {
  type RedisClusterHandle,
  startLocalRedisCluster,
} from "../../../lab/processes/redis-cluster.ts";
import { type RedisHandle, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import {
  HistoryOperationConflictError,
  HistorySuffixMismatchError,
  RedisSession,
  redisSessionKeys,
} from "../../../service/agents-sdk/redis-session.ts";
import { StoreUnavailableError } from "../../../service/errors.ts";
import {
  createRedisClient,
  createRedisClusterClient,
  waitUntilReady,
} from "../../../service/store/redis-client.ts";

/** Runs of the model-based property: each a fresh key, up to MAX_OPS operations. */
const NUM_RUNS = 100;
const MAX_OPS = 30;
/** Fewer on the Cluster: the same property, to show the scripts run there (one slot per session). */
const CLUSTER_RUNS = 30;

// ---- Items and operations, as fast-check generates them. ----

/** Few distinct texts, so that a stale expectedSuffix sometimes matches by chance. */
const text = fc.constantFrom("a", "b", "c");
const item: fc.Arbitrary<AgentInputItem> = fc.oneof(
  text.map((content) => ({ role: "user", content }) as AgentInputItem),
  text.map(
    (t) =>
      ({
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: t }],
      }) as AgentInputItem,
  ),
);
const items = fc.array(item, { maxLength: 3 });
/** A small pool of ids: repeats, with the same or another transaction, are frequent. */
const operationId = fc.constantFrom("op-0", "op-1", "op-2", "op-3");

type Op =
  | { kind: "add"; items: AgentInputItem[] }
  | { kind: "get"; limit?: number }
  | { kind: "pop" }
  | { kind: "clear" }
  | { kind: "append"; operationId: string; items: AgentInputItem[] }
  /** fresh: expectedSuffix is the current last `length` items; else `stale` items. */
  | {
      kind: "replace";
      operationId: string;
      length: number;
      fresh: boolean;
      stale: AgentInputItem[];
      replacement: AgentInputItem[];
    }
  /** Sends again the n-th transaction sent so far (modulo their count): a retry. */
  | { kind: "retry"; nth: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: items.map((i) => ({ kind: "add", items: i }) as Op) },
  fc
    .option(fc.integer({ min: -1, max: 5 }), { nil: undefined })
    .map((limit) =>
      limit === undefined ? ({ kind: "get" } as Op) : ({ kind: "get", limit } as Op),
    ),
  fc.constant<Op>({ kind: "pop" }),
  { weight: 1, arbitrary: fc.constant<Op>({ kind: "clear" }) },
  fc.record({ kind: fc.constant("append" as const), operationId, items }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("replace" as const),
      operationId,
      length: fc.integer({ min: 0, max: 3 }),
      fresh: fc.boolean(),
      stale: items,
      replacement: items,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("retry" as const), nth: fc.nat(20) }) },
);

type Outcome = { ok: true; value: unknown } | { ok: false; message: string };

async function outcome(action: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await action() };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}

/** The transaction an op sends, built from the model's state where it needs a fresh suffix. */
async function transactionOf(
  o: Op,
  model: MemorySession,
  sent: SessionHistoryTransactionArgs[],
): Promise<SessionHistoryTransactionArgs | undefined> {
  if (o.kind === "append") {
    return { operationId: o.operationId, transaction: { type: "append_items", items: o.items } };
  }
  if (o.kind === "retry") return sent.length === 0 ? undefined : sent[o.nth % sent.length];
  if (o.kind !== "replace") return undefined;
  const expectedSuffix = o.fresh ? await model.getItems(o.length) : o.stale;
  return {
    operationId: o.operationId,
    transaction: { type: "replace_suffix", expectedSuffix, replacement: o.replacement },
  };
}

/** Applies one op to a session; the same call for the model and the session under test. */
function apply(
  session: MemorySession | RedisSession,
  o: Op,
  tx: SessionHistoryTransactionArgs | undefined,
) {
  if (tx) return outcome(() => session.applyHistoryTransaction(structuredClone(tx)));
  switch (o.kind) {
    case "add":
      return outcome(() => session.addItems(structuredClone(o.items)));
    case "get":
      return outcome(() => session.getItems(o.limit));
    case "pop":
      return outcome(() => session.popItem());
    case "clear":
      return outcome(() => session.clearSession());
    default:
      // A retry before any transaction was sent: nothing to do.
      return Promise.resolve<Outcome>({ ok: true, value: undefined });
  }
}

/**
 * The model-based property: every generated sequence, applied step by step to a MemorySession
 * and to a fresh RedisSession, gives the same outcomes and the same items after each step.
 * Returns how often each refusal occurred, to show the sequences reached them.
 */
async function checkAgainstModel(
  freshSession: () => RedisSession,
  numRuns: number,
): Promise<Map<string, number>> {
  const refusals = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: MAX_OPS }), async (ops) => {
      const model = new MemorySession();
      const session = freshSession();
      const sent: SessionHistoryTransactionArgs[] = [];
      for (const o of ops) {
        const tx = await transactionOf(o, model, sent);
        if (tx && o.kind !== "retry") sent.push(tx);
        const expected = await apply(model, o, tx);
        expect(await apply(session, o, tx)).toEqual(expected);
        if (!expected.ok) refusals.set(expected.message, (refusals.get(expected.message) ?? 0) + 1);
        expect(await session.getItems()).toEqual(await model.getItems());
      }
    }),
    { numRuns },
  );
  return refusals;
}

// ---- A deterministic model for the real run: it answers how many items it was given. ----

const seenModel: Model = {
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const seen = typeof request.input === "string" ? 1 : request.input.length;
    return {
      usage: new Usage(),
      output: [
        {
          type: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: `seen ${seen}` }],
        },
      ],
    };
  },
  getStreamedResponse(): AsyncIterable<StreamEvent> {
    throw new Error("this test model does not stream");
  },
};

describe("RedisSession (Agents SDK session on Redis)", () => {
  let server: RedisHandle;
  let redis: Redis;
  let runs = 0;
  const freshKey = (name: string) => `{agents-session-test:${name}:${++runs}}`;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it(`behaves like MemorySession on generated operation sequences (${NUM_RUNS} runs)`, async () => {
    const refusals = await checkAgainstModel(
      () => new RedisSession({ redis, key: freshKey("model"), ttlSeconds: 60 }),
      NUM_RUNS,
    );
    // Both refusals occurred in the generated sequences, not only in the checks below.
    expect([...refusals.keys()].sort()).toEqual([
      "Session history operation was already applied with a different transaction.",
      "Session history suffix no longer matches the transaction precondition.",
    ]);
    // The refusals are the named errors, and the property did reach both of them.
    const session = new RedisSession({ redis, key: freshKey("errors") });
    await session.addItems([{ role: "user", content: "a" }]);
    await session.applyHistoryTransaction({
      operationId: "x",
      transaction: { type: "replace_suffix", expectedSuffix: [], replacement: [] },
    });
    await expect(
      session.applyHistoryTransaction({
        operationId: "x",
        transaction: { type: "append_items", items: [] },
      }),
    ).rejects.toBeInstanceOf(HistoryOperationConflictError);
    await expect(
      session.applyHistoryTransaction({
        operationId: "y",
        transaction: {
          type: "replace_suffix",
          expectedSuffix: [{ role: "user", content: "b" }],
          replacement: [],
        },
      }),
    ).rejects.toBeInstanceOf(HistorySuffixMismatchError);
  });

  it("gives an Agent run the items of the previous run on the same session", async () => {
    const session = new RedisSession({ redis, key: freshKey("agent"), ttlSeconds: 60 });
    const agent = new Agent({ name: "counter", instructions: "count", model: seenModel });
    const runner = new Runner({ tracingDisabled: true });
    const first = await runner.run(agent, "hello", { session });
    expect(first.finalOutput).toBe("seen 1");
    const second = await runner.run(agent, "again", { session });
    // hello, the first answer, again.
    expect(second.finalOutput).toBe("seen 3");
    const stored = await session.getItems();
    expect(stored).toHaveLength(4);
    expect(stored[0]).toMatchObject({ role: "user", content: "hello" });
    expect(stored[2]).toMatchObject({ role: "user", content: "again" });
    // A second process opening the same key sees the same history.
    const other = new Redis(server.url);
    try {
      const reopened = new RedisSession({ redis: other, key: await session.getSessionId() });
      expect(await reopened.getItems()).toEqual(stored);
    } finally {
      other.disconnect();
    }
  });

  it("stores a run blocked by an output guardrail as MemorySession does", async () => {
    const blockingAgent = () =>
      new Agent({
        name: "blocked",
        instructions: "count",
        model: seenModel,
        outputGuardrails: [
          {
            name: "block-everything",
            execute: async () => ({ tripwireTriggered: true, outputInfo: "blocked" }),
          },
        ],
      });
    const runner = new Runner({ tracingDisabled: true });
    const runOn = async (session: MemorySession | RedisSession) => {
      await session.addItems([{ role: "user", content: "earlier" }]);
      const error = await runner.run(blockingAgent(), "hello", { session }).catch((e) => e);
      return { error: (error as Error).name, items: await session.getItems() };
    };
    const redisSession = new RedisSession({ redis, key: freshKey("blocked") });
    const memory = await runOn(new MemorySession());
    const stored = await runOn(redisSession);
    // The input is kept and the blocked answer is not; in 0.20.0 this run writes with addItems.
    expect(stored.error).toBe("OutputGuardrailTripwireTriggered");
    expect(stored).toEqual(memory);
  });

  it("never interleaves the items of two concurrent addItems calls (two clients)", async () => {
    const key = freshKey("concurrent");
    const clients = [new Redis(server.url), new Redis(server.url)];
    const CALLS = 200;
    const SIZE = 3;
    try {
      await Promise.all(
        clients.flatMap((client, c) => {
          const session = new RedisSession({ redis: client, key });
          return Array.from({ length: CALLS }, (_, call) =>
            session.addItems(
              Array.from({ length: SIZE }, (_, i) => ({
                role: "user" as const,
                content: `${c}:${call}:${i}`,
              })),
            ),
          );
        }),
      );
      const stored = await new RedisSession({ redis, key }).getItems();
      expect(stored).toHaveLength(2 * CALLS * SIZE);
      const contents = stored.map((i) => (i as { content: string }).content);
      for (let at = 0; at < contents.length; at += SIZE) {
        const [c, call] = (contents[at] ?? "").split(":");
        const group = contents.slice(at, at + SIZE);
        expect(group).toEqual([0, 1, 2].map((i) => `${c}:${call}:${i}`));
      }
    } finally {
      for (const client of clients) client.disconnect();
    }
  });

  it("answers odd limits as MemorySession does (fractions, NaN, Infinity, huge)", async () => {
    const history = ["a", "b", "c", "d"].map((content) => ({ role: "user" as const, content }));
    const model = new MemorySession({ initialItems: history });
    const session = new RedisSession({ redis, key: freshKey("limits") });
    await session.addItems(history);
    for (const limit of [0, -2, 0.5, 2.5, 4, 7, Number.NaN, Number.POSITIVE_INFINITY, 1e20]) {
      expect(await session.getItems(limit), `limit ${limit}`).toEqual(await model.getItems(limit));
    }
  });

  it("refuses malformed transactions as MemorySession does, before writing anything", async () => {
    const history = [{ role: "user" as const, content: "a" }];
    const model = new MemorySession({ initialItems: history });
    const session = new RedisSession({ redis, key: freshKey("malformed") });
    await session.addItems(history);
    const malformed = [
      { operationId: " ", transaction: { type: "append_items", items: [] } },
      { operationId: "m", transaction: { type: "delete_all" } },
      { operationId: "m", transaction: { type: "append_items", items: [], extra: 1 } },
      { operationId: "m", transaction: { type: "replace_suffix", expectedSuffix: [] } },
      { operationId: "m", transaction: { type: "append_items", items: [{ role: "nobody" }] } },
    ] as unknown as SessionHistoryTransactionArgs[];
    for (const args of malformed) {
      const expected = await outcome(() => model.applyHistoryTransaction(structuredClone(args)));
      expect(expected.ok).toBe(false);
      expect(await outcome(() => session.applyHistoryTransaction(args))).toEqual(expected);
    }
    expect(await session.getItems()).toEqual(history);
    expect(await redis.exists(redisSessionKeys(await session.getSessionId()).operations)).toBe(0);
  });

  it("refreshes the expiry of both keys on every write", async () => {
    const key = freshKey("ttl");
    const session = new RedisSession({ redis, key, ttlSeconds: 30 });
    await session.applyHistoryTransaction({
      operationId: "t",
      transaction: { type: "append_items", items: [{ role: "user", content: "a" }] },
    });
    const keys = redisSessionKeys(key);
    for (const k of [keys.items, keys.operations]) {
      const ttl = await redis.ttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30);
    }
    await session.clearSession();
    expect(await redis.exists(keys.items, keys.operations)).toBe(0);
  });

  it("names a Redis it cannot reach StoreUnavailableError, for reads and writes", async () => {
    const client = createRedisClient(`redis://127.0.0.1:${await freePort()}`);
    client.on("error", () => {});
    try {
      const session = new RedisSession({ redis: client, key: "{nowhere}" });
      await expect(session.getItems()).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(session.addItems([{ role: "user", content: "a" }])).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
    } finally {
      client.disconnect();
    }
  });
});

describe("RedisSession on a Redis Cluster (3 masters)", () => {
  let cluster: RedisClusterHandle;
  let client: Cluster;
  let runs = 0;

  beforeAll(async () => {
    cluster = await startLocalRedisCluster();
    client = createRedisClusterClient(cluster.nodes);
    await waitUntilReady(client, 10_000);
  });
  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it(`behaves like MemorySession, each session's keys in its own slot (${CLUSTER_RUNS} runs)`, async () => {
    const keys: string[] = [];
    const freshSession = () => {
      const key = `{agents-session-cluster:${++runs}}`;
      keys.push(key);
      return new RedisSession({ redis: client, key, ttlSeconds: 60 });
    };
    await checkAgainstModel(freshSession, CLUSTER_RUNS);
    // The runs were spread over the cluster: their keys live on more than one master.
    const slots = await Promise.all(keys.map((key) => client.cluster("KEYSLOT", key)));
    expect(new Set(slots).size).toBeGreaterThan(1);
  });
});
