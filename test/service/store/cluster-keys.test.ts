import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askRedis } from "../../../lab/processes/ask-redis.ts";
import {
  type RedisClusterHandle,
  startLocalRedisCluster,
} from "../../../lab/processes/redis-cluster.ts";
import { conversationKey } from "../../../service/auth/conversation-key.ts";
import { loadConfig, parseNodeList } from "../../../service/config.ts";
import type { ChatMessage, Identity } from "../../../service/contract.ts";
import { rateLimitKey } from "../../../service/http/turn-rate-limit.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import {
  createRedisClusterClient,
  createStoreClient,
  type RedisClient,
  waitUntilReady,
} from "../../../service/store/redis-client.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import { replicaWaitFor } from "../../../service/store/replica-wait.ts";
import { RedisTurnLimitStore } from "../../../service/store/turn-limit-store.ts";
import { TurnGate } from "../../../service/turns/turn-gate.ts";
import { keySlot, masterPortOf } from "./cluster-helpers.ts";

const PREFIX = "agent-sandbox-test:";
const servedBy = { workerId: 1, pid: 1, hostname: "test" };
const pair = (turnId: string): ChatMessage[] => [
  { role: "user", content: `q ${turnId}`, turnId, servedBy, at: "" },
  { role: "assistant", content: `a ${turnId}`, turnId, servedBy, at: "" },
];

// Identities whose parts contain ":" and braces: the encoding keeps exactly one hash tag.
const IDENTITIES: Identity[] = [
  { tenant: "acme", user: "ann" },
  { tenant: "a:b", user: "c" },
  { tenant: "a", user: "b:c" },
  { tenant: "{t}", user: "u}{v" },
  { tenant: "x{", user: "}" },
  { tenant: "}{", user: "{{}}:" },
];

describe("the store and the turn gate on a real Redis Cluster (3 masters)", () => {
  let cluster: RedisClusterHandle;
  let client: RedisClient;
  let inspector: ReturnType<typeof createRedisClusterClient>;

  beforeAll(async () => {
    cluster = await startLocalRedisCluster();
    client = createStoreClient(loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes }));
    inspector = createRedisClusterClient(cluster.nodes);
    await Promise.all([waitUntilReady(client, 5000), waitUntilReady(inspector, 5000)]);
  });
  afterAll(async () => {
    client?.disconnect();
    inspector?.disconnect();
    await cluster?.stop();
  });

  it("waits for no replica on a Cluster without replicas (REDIS_WAIT_REPLICAS unset)", async () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: cluster.nodes });
    expect(await replicaWaitFor(client, config)).toEqual({ replicas: 0, timeoutMs: 500 });
  });

  it("REDIS_CLUSTER_NODES makes the store client a cluster client", () => {
    expect(client).not.toBeInstanceOf(Redis);
    expect((client as { isCluster?: boolean }).isCluster).toBe(true);
    expect(client.status).toBe("ready");
    expect(parseNodeList(" 127.0.0.1:7000, redis-1:7001 ")).toEqual([
      { host: "127.0.0.1", port: 7000 },
      { host: "redis-1", port: 7001 },
    ]);
    expect(() => parseNodeList("127.0.0.1")).toThrow(/host:port/);
  });

  it("connects at the first attempt: no client restarts its connection before it is ready", async () => {
    // Opening the node connections early once made ioredis's own ready check (CLUSTER INFO to
    // any node) find a node still opening, fail, and restart the connection, again and again.
    const clients = Array.from({ length: 8 }, () => createRedisClusterClient(cluster.nodes));
    const restartedBeforeReady = clients.map((fresh) => {
      const seen = { ready: false, restarted: false };
      fresh.once("ready", () => {
        seen.ready = true;
      });
      fresh.on("reconnecting", () => {
        if (!seen.ready) seen.restarted = true;
      });
      return seen;
    });
    try {
      await Promise.all(clients.map((fresh) => waitUntilReady(fresh, 5000)));
      expect(clients.map((fresh) => fresh.status)).toEqual(clients.map(() => "ready"));
      expect(restartedBeforeReady.filter((seen) => seen.restarted)).toHaveLength(0);
    } finally {
      for (const fresh of clients) fresh.disconnect();
    }
  });

  it("is ready for a burst at once: commands to every master in parallel all succeed", async () => {
    const fresh = createRedisClusterClient(cluster.nodes);
    try {
      await waitUntilReady(fresh, 5000);
      expect(fresh.nodes("master").map((node) => node.status)).toEqual(["ready", "ready", "ready"]);
      const keys = Array.from({ length: 60 }, (_, i) => `${PREFIX}{burst-${i}}:messages`);
      await expect(Promise.all(keys.map((key) => fresh.llen(key)))).resolves.toHaveLength(60);
    } finally {
      fresh.disconnect();
    }
  });

  it("maps every key of one conversation to one slot, whatever ':' or braces the identity holds", async () => {
    const slots = new Set<number>();
    for (const identity of IDENTITIES) {
      for (const id of ["trip-1", "conv_2", "x"]) {
        const key = conversationKey(PREFIX, identity, id);
        const keys = Object.values(conversationKeys(key));
        expect(keys).toHaveLength(4);
        const keySlots = await Promise.all(keys.map((k) => keySlot(inspector, k)));
        expect(new Set(keySlots).size, `${key}: ${keySlots.join(", ")}`).toBe(1);
        slots.add(keySlots[0] as number);
      }
    }
    // Different conversations still spread over the slots (and so over the masters).
    expect(slots.size).toBeGreaterThan(1);
  });

  it("runs the multi-key scripts (lease, fenced append, replay) on conversations on every master", async () => {
    const store = new RedisConversationStore(client, 60);
    const gate = new TurnGate({
      redis: client,
      store,
      strategy: "reject",
      leaseMs: 5000,
      maxMs: 60_000,
      waitMs: 1000,
      ttlSeconds: 60,
      contextWindow: 100,
    });
    // Pick conversations until one lives on each master.
    const byMaster = new Map<number, string>();
    for (let i = 0; byMaster.size < cluster.ports.length && i < 200; i++) {
      const key = conversationKey(PREFIX, IDENTITIES[3] as Identity, `spread-${process.pid}-${i}`);
      const port = await masterPortOf(inspector, await keySlot(inspector, key));
      if (!byMaster.has(port)) byMaster.set(port, key);
    }
    expect([...byMaster.keys()].sort()).toEqual([...cluster.ports].sort());

    for (const [port, key] of byMaster) {
      for (const [turnId, before] of [
        ["t1", 0],
        ["t2", 2],
      ] as const) {
        // One turn as the fixed chat service runs it: load (the lease prefetched it), append.
        const outcome = await gate.run(key, turnId, async (leased) => {
          const { length } = await leased.loadRecent(key, 100);
          const after = await leased.append(key, pair(turnId));
          return { length, after };
        });
        expect(outcome).toMatchObject({ ran: true, value: { length: before, after: before + 2 } });
      }
      // A repeated turnId is answered from the store, nothing added.
      expect(await gate.run(key, "t1", async () => "ran again")).toMatchObject({
        ran: false,
        position: 0,
      });
      expect((await store.load(key)).map((m) => m.content)).toEqual([
        "q t1",
        "a t1",
        "q t2",
        "a t2",
      ]);
      // The keys really live on that master.
      const master = { host: "127.0.0.1", port };
      expect(await askRedis(master, "LLEN", conversationKeys(key).messages)).toBe(4);
      expect(await askRedis(master, "EXISTS", conversationKeys(key).turns)).toBe(1);
    }
  });

  it("counts turn limits on every master (the rate-limit scripts are loaded on each)", async () => {
    const store = new RedisTurnLimitStore(client, `${PREFIX}turn-limit:`);
    await store.init({ windowMs: 60_000 } as Parameters<RedisTurnLimitStore["init"]>[0]);
    const masters = new Set<number>();
    for (const identity of IDENTITIES) {
      const key = rateLimitKey(identity);
      expect((await store.increment(key)).totalHits).toBe(1);
      expect((await store.increment(key)).totalHits).toBe(2);
      masters.add(await masterPortOf(inspector, await keySlot(inspector, store.prefixKey(key))));
    }
    expect(masters.size).toBeGreaterThan(1);
  });
});
