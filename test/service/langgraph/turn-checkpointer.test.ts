import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { END, MessagesAnnotation, START, StateGraph } from "@langchain/langgraph";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PrivateRedis, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import { TurnFencedError } from "../../../service/errors.ts";
import {
  RedisCheckpointSaver,
  type RedisCheckpointSaverOptions,
} from "../../../service/langgraph/redis-checkpointer.ts";
import { TurnCheckpointer } from "../../../service/langgraph/turn-checkpointer.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import type { ConversationStore } from "../../../service/store/conversation-store.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import { commitTurn } from "../../../service/turns/leased-store.ts";
import { TurnGate } from "../../../service/turns/turn-gate.ts";
import { describeCommitReplicaWait } from "../../helpers/commit-replica-wait.ts";

/** START -> answer -> END; the answer counts the messages it saw, or the node fails. */
function graphBuilder(fail = false) {
  return new StateGraph(MessagesAnnotation)
    .addNode("answer", (state) => {
      if (fail) throw new Error("the model is down");
      return { messages: [new AIMessage(`seen ${state.messages.length}`)] };
    })
    .addEdge(START, "answer")
    .addEdge("answer", END);
}

describe("TurnCheckpointer: a turn's one checkpoint, committed under its lease", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let store: RedisConversationStore;
  let gate: TurnGate;
  let n = 0;
  const newKey = () => `lg-turn-test:{acme:ada:${process.pid}-${n++}}`;
  const options = (): RedisCheckpointSaverOptions => ({
    redis,
    keyPrefix: "",
    ttlSeconds: 60,
    forkGuard: true,
  });

  /** One turn as fixed/langgraph runs it: its own checkpointer, durability "exit", commit. */
  const runTurn =
    (key: string, text: string, fail = false) =>
    async (leased: ConversationStore) => {
      const checkpointer = new TurnCheckpointer(options());
      const graph = graphBuilder(fail).compile({ checkpointer });
      const config = { configurable: { thread_id: key }, durability: "exit" as const };
      const state = await graph.invoke({ messages: [new HumanMessage(text)] }, config);
      await commitTurn(leased, (record) => checkpointer.commit(record, state.messages.length - 2));
      return state.messages.map((m) => String(m.content));
    };

  /** The thread as a plain saver reads it: its messages and how many checkpoints it has. */
  const thread = async (key: string) => {
    const saver = new RedisCheckpointSaver(options());
    const graph = graphBuilder().compile({ checkpointer: saver });
    const state = await graph.getState({ configurable: { thread_id: key } });
    let checkpoints = 0;
    for await (const _ of saver.list({ configurable: { thread_id: key } })) checkpoints++;
    const messages = (state.values.messages ?? []) as { content: unknown }[];
    return { messages: messages.map((m) => String(m.content)), checkpoints };
  };

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

  it("stores the run's one checkpoint with the turn's record, ends the lease; a retry is replayed", async () => {
    const key = newKey();
    const first = await gate.run(key, "t1", runTurn(key, "hello"));
    expect(first).toMatchObject({ ran: true, value: ["hello", "seen 1"] });
    const keys = conversationKeys(key);
    expect(await redis.exists(keys.lease)).toBe(0);
    expect(await redis.hget(keys.turns, "t1")).toBe("0");
    expect(await thread(key)).toEqual({ messages: ["hello", "seen 1"], checkpoints: 1 });

    const second = await gate.run(key, "t2", runTurn(key, "again"));
    expect(second).toMatchObject({ ran: true, value: ["hello", "seen 1", "again", "seen 3"] });
    expect(await redis.hget(keys.turns, "t2")).toBe("2");
    // One checkpoint per turn, each the child of the one before (the fork guard is on).
    expect(await thread(key)).toMatchObject({ checkpoints: 2 });

    // The same turnId again: answered from the record, the graph does not run.
    expect(await gate.run(key, "t1", runTurn(key, "hello"))).toMatchObject({ ran: false });
    expect((await thread(key)).messages).toHaveLength(4);
  });

  it("a run that fails stores nothing, and the gate gives the lease back", async () => {
    const key = newKey();
    await expect(gate.run(key, "t1", runTurn(key, "hello", true))).rejects.toThrow(
      "the model is down",
    );
    expect(await thread(key)).toEqual({ messages: [], checkpoints: 0 });
    const keys = conversationKeys(key);
    expect(await redis.exists(keys.lease)).toBe(0);
    expect(await redis.hexists(keys.turns, "t1")).toBe(0);
    // LangGraph alone would have stored the failed step: its input and the pending node.
    const plain = graphBuilder(true).compile({ checkpointer: new RedisCheckpointSaver(options()) });
    const config = { configurable: { thread_id: key }, durability: "exit" as const };
    await expect(plain.invoke({ messages: [new HumanMessage("hello")] }, config)).rejects.toThrow();
    expect((await thread(key)).messages).toEqual(["hello"]);
  });

  it("a commit after the lease was taken over is fenced: nothing stored, nothing recorded", async () => {
    const key = newKey();
    const keys = conversationKeys(key);
    const outcome = gate.run(key, "t1", async (leased) => {
      // Another worker's turn took the conversation once this one's lease lapsed.
      await redis.set(keys.lease, "99.other:t9", "PX", 5000);
      return runTurn(key, "hello")(leased);
    });
    await expect(outcome).rejects.toBeInstanceOf(TurnFencedError);
    await expect(outcome).rejects.toMatchObject({ reason: "lease_lost" });
    expect(await thread(key)).toEqual({ messages: [], checkpoints: 0 });
    expect(await redis.hexists(keys.turns, "t1")).toBe(0);
    expect(await redis.get(keys.lease)).toBe("99.other:t9");
  });

  it("a run that writes more than one checkpoint is refused: the turn must run with durability exit", async () => {
    const key = newKey();
    const checkpointer = new TurnCheckpointer(options());
    const graph = graphBuilder().compile({ checkpointer });
    const input = { messages: [new HumanMessage("hello")] };
    await expect(graph.invoke(input, { configurable: { thread_id: key } })).rejects.toThrow(
      'durability: "exit"',
    );
    expect(await thread(key)).toEqual({ messages: [], checkpoints: 0 });
  });

  it("without a lease (no turn gate) the commit is a plain put", async () => {
    const key = newKey();
    expect(await runTurn(key, "hello")(store)).toEqual(["hello", "seen 1"]);
    expect(await thread(key)).toEqual({ messages: ["hello", "seen 1"], checkpoints: 1 });
    expect(await redis.exists(conversationKeys(key).turns)).toBe(0);
  });
});

describeCommitReplicaWait("TurnCheckpointer", {
  async commit(redis, key, replicaWait, record) {
    const checkpointer = new TurnCheckpointer({
      redis,
      keyPrefix: "",
      ttlSeconds: 60,
      forkGuard: true,
      replicaWait,
    });
    const graph = graphBuilder().compile({ checkpointer });
    const config = { configurable: { thread_id: key }, durability: "exit" as const };
    await graph.invoke({ messages: [new HumanMessage("hello")] }, config);
    await checkpointer.commit(record, 0);
  },
  // The thread's checkpoints, under the key RedisCheckpointSaver gives them (no prefix).
  storedOn: (node, key) => node.hlen(`${key}:t:checkpoints:`),
  storedByOneTurn: 1,
});
