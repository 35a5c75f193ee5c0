import {
  Agent,
  type AgentInputItem,
  type Model,
  type ModelRequest,
  type ModelResponse,
  Runner,
  type StreamEvent,
  Usage,
} from "@openai/agents-core";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PrivateRedis, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import { RedisSession, redisSessionKeys } from "../../../service/agents-sdk/redis-session.ts";
import { TurnSession } from "../../../service/agents-sdk/turn-session.ts";
import { TurnFencedError } from "../../../service/errors.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import type { ConversationStore } from "../../../service/store/conversation-store.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import { commitTurn } from "../../../service/turns/leased-store.ts";
import { TurnGate } from "../../../service/turns/turn-gate.ts";
import { describeCommitReplicaWait } from "../../helpers/commit-replica-wait.ts";

/** A deterministic model: answers how many items it was given, or fails when told to. */
function countingModel(fail = false): Model {
  return {
    async getResponse(request: ModelRequest): Promise<ModelResponse> {
      if (fail) throw new Error("the model is down");
      const seen = typeof request.input === "string" ? 1 : request.input.length;
      const output: AgentInputItem = {
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: `seen ${seen}` }],
      };
      return { usage: new Usage(), output: [output] };
    },
    getStreamedResponse(): AsyncIterable<StreamEvent> {
      throw new Error("this test model does not stream");
    },
  };
}

describe("TurnSession: a turn's items, committed under its lease", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let store: RedisConversationStore;
  let gate: TurnGate;
  const runner = new Runner({ tracingDisabled: true });
  let n = 0;
  const newKey = () => `agents-turn-test:{acme:ada:${process.pid}-${n++}}`;

  /** One turn as fixed/openai-agents runs it: its own session, then the commit. */
  const runTurn =
    (key: string, text: string, recentItems = 100, fail = false) =>
    async (leased: ConversationStore) => {
      const session = new TurnSession({ redis, key, recentItems, ttlSeconds: 60 });
      const agent = new Agent({
        name: "counter",
        instructions: "count",
        model: countingModel(fail),
      });
      const result = await runner.run(agent, text, { session });
      const before = session.historyLength ?? -1;
      await commitTurn(leased, (record) => session.commit(record, before));
      return { reply: result.finalOutput, before };
    };
  const stored = async (key: string) =>
    (await new RedisSession({ redis, key }).getItems()).map((item) =>
      "content" in item && typeof item.content === "string"
        ? item.content
        : JSON.stringify("content" in item ? item.content : item),
    );

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = new Redis(server.url);
    store = new RedisConversationStore(redis, 60);
    const timing = { leaseMs: 5000, maxMs: 60_000, waitMs: 5000 };
    gate = new TurnGate({
      redis,
      store,
      strategy: "enqueue",
      ...timing,
      ttlSeconds: 60,
      contextWindow: 10,
    });
  });

  afterAll(async () => {
    gate?.close();
    await redis?.quit();
    await server?.stop();
  });

  it("commits the run's items with the turn's record, ends the lease; a retry is replayed", async () => {
    const key = newKey();
    const keys = conversationKeys(key);
    expect(await gate.run(key, "t1", runTurn(key, "hello"))).toMatchObject({
      ran: true,
      value: { reply: "seen 1", before: 0 },
    });
    expect(await redis.exists(keys.lease)).toBe(0);
    expect(await redis.hget(keys.turns, "t1")).toBe("0");
    expect(await gate.run(key, "t2", runTurn(key, "again"))).toMatchObject({
      value: { reply: "seen 3", before: 2 },
    });
    expect(await redis.hget(keys.turns, "t2")).toBe("2");
    expect(await stored(key)).toHaveLength(4);
    // The same turnId again: answered from the record, the agent does not run.
    expect(await gate.run(key, "t1", runTurn(key, "hello"))).toMatchObject({ ran: false });
    expect(await stored(key)).toHaveLength(4);
  });

  it("a run reads only the newest recentItems, and the whole history's length with them", async () => {
    const key = newKey();
    for (const [i, text] of ["a", "b", "c"].entries()) {
      await gate.run(key, `t${i}`, runTurn(key, text, 3));
    }
    // 4 items stored before the third turn; the model got 3 of them and the new message.
    const third = await gate.run(key, "t9", runTurn(key, "d", 3));
    expect(third).toMatchObject({ value: { reply: "seen 4", before: 6 } });
    expect(await stored(key)).toHaveLength(8);
  });

  it("a run whose model fails stores nothing, and the gate gives the lease back", async () => {
    const key = newKey();
    await expect(gate.run(key, "t1", runTurn(key, "hello", 100, true))).rejects.toThrow(
      "the model is down",
    );
    const keys = conversationKeys(key);
    expect(await stored(key)).toEqual([]);
    expect(await redis.exists(keys.lease)).toBe(0);
    expect(await redis.hexists(keys.turns, "t1")).toBe(0);
  });

  it("a commit after the lease was taken over is fenced: nothing stored, nothing recorded", async () => {
    const key = newKey();
    const keys = conversationKeys(key);
    const outcome = gate.run(key, "t1", async (leased) => {
      await redis.set(keys.lease, "99.other:t9", "PX", 5000);
      return runTurn(key, "hello")(leased);
    });
    await expect(outcome).rejects.toBeInstanceOf(TurnFencedError);
    await expect(outcome).rejects.toMatchObject({ reason: "lease_lost" });
    expect(await stored(key)).toEqual([]);
    expect(await redis.hexists(keys.turns, "t1")).toBe(0);
    expect(await redis.get(keys.lease)).toBe("99.other:t9");
  });

  it("without a lease (no turn gate) the commit is a plain append", async () => {
    const key = newKey();
    expect(await runTurn(key, "hello")(store)).toEqual({ reply: "seen 1", before: 0 });
    expect(await stored(key)).toHaveLength(2);
    expect(await redis.exists(conversationKeys(key).turns)).toBe(0);
  });
});

describeCommitReplicaWait("TurnSession", {
  async commit(redis, key, replicaWait, record) {
    const session = new TurnSession({ redis, key, recentItems: 100, replicaWait });
    const agent = new Agent({ name: "counter", instructions: "count", model: countingModel() });
    await new Runner({ tracingDisabled: true }).run(agent, "hello", { session });
    await session.commit(record, 0);
  },
  storedOn: (node, key) => node.llen(redisSessionKeys(key).items),
  // The user's item and the model's reply.
  storedByOneTurn: 2,
});
