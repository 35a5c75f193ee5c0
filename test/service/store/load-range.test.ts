import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { watchCommands } from "../../../lab/processes/redis-monitor.ts";
import { type RedisHandle, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import { DelayedWriteStore } from "../../../scenarios/delayed-writes.ts";
import { FileConversationStore } from "../../../scenarios/file-store.ts";
import type { ChatMessage } from "../../../service/contract.ts";
import type { ConversationStore } from "../../../service/store/conversation-store.ts";
import { createRedisClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import { LeasedConversationStore } from "../../../service/turns/leased-store.ts";

const servedBy = { workerId: 1, pid: 1, hostname: "test" };
const messageAt = (position: number): ChatMessage => ({
  role: position % 2 === 0 ? "user" : "assistant",
  content: `message ${position}`,
  turnId: `t${Math.floor(position / 2)}`,
  servedBy,
  at: new Date(0).toISOString(),
});
const HISTORY = Array.from({ length: 10 }, (_, i) => messageAt(i));
const contents = (messages: readonly ChatMessage[]) => messages.map((m) => m.content);

/** [start, count] and the positions each must read from a history of 10 messages. */
const RANGES: [number, number, number[]][] = [
  [0, 3, [0, 1, 2]],
  [7, 3, [7, 8, 9]],
  [8, 5, [8, 9]],
  [9, 1, [9]],
  [10, 2, []],
  [50, 10, []],
  [4, 0, []],
  [4, -3, []],
];

describe("ConversationStore.loadRange: one page of a history by position", () => {
  let redis: RedisHandle;
  let client: Redis;
  let store: RedisConversationStore;
  let directory: string;
  const key = `agent-sandbox-test:{range:${process.pid}:${Date.now()}}`;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    client = createRedisClient(redis.url);
    await waitUntilReady(client, 5000);
    store = new RedisConversationStore(client, 60);
    await store.append(key, HISTORY);
    directory = await mkdtemp(join(tmpdir(), "load-range-"));
  });
  afterAll(async () => {
    await store?.close();
    await redis?.stop();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it.each(RANGES)("redis: start %i, count %i", async (start, count, positions) => {
    expect(contents(await store.loadRange(key, start, count))).toEqual(
      contents(positions.map(messageAt)),
    );
  });

  it("reads nothing of an unknown conversation", async () => {
    expect(await store.loadRange(`${key}:never-written`, 0, 5)).toEqual([]);
  });

  it("is one LRANGE with the range's own bounds, and no command at all for an empty range", async () => {
    const watch = await watchCommands(redis.url);
    try {
      const list = RedisConversationStore.messagesKey(key);
      const page = await watch.during(() => store.loadRange(key, 4, 3));
      expect(page.commands).toEqual([["lrange", list, "4", "6"]]);
      // A count of 0 as LRANGE would be `4 -1`: the whole rest of the list.
      const empty = await watch.during(() => store.loadRange(key, 4, 0));
      expect(empty.commands).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  it("gives the same ranges through the file store and the wrapping stores", async () => {
    const files = new FileConversationStore(directory);
    await files.append(key, HISTORY);
    const lease = { key, turnId: "t", token: "1", length: 10, window: 2, recent: [] };
    const stores: ConversationStore[] = [
      files,
      new DelayedWriteStore(store, 1),
      new LeasedConversationStore(store, lease),
    ];
    for (const other of stores) {
      for (const [start, count, positions] of RANGES) {
        expect(contents(await other.loadRange(key, start, count)), `${start},${count}`).toEqual(
          contents(positions.map(messageAt)),
        );
      }
    }
  });
});
