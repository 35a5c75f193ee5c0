/**
 * One of the two writers of "two processes writing one thread at once": its own process, its
 * own connection. It reads the thread's newest checkpoint, tells the test it is ready, waits
 * for the test's go (BLPOP: both are released by one LPUSH), then puts a child of what it
 * read. It prints one JSON line: `{ "outcome": "stored", "id" }` or the error's name and conflict.
 *
 * Usage: node --import tsx concurrent-writer.ts <redisUrl> <keyPrefix> <threadId> <name>
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { emptyCheckpoint, uuid6 } from "@langchain/langgraph-checkpoint";
import { Redis } from "ioredis";
import { RedisCheckpointSaver } from "../../../service/langgraph/redis-checkpointer.ts";

const [url = "", keyPrefix = "", threadId = "", name = ""] = process.argv.slice(2);

/** The barrier's two lists, shared with the test (redis-checkpointer.test.ts). */
export const barrierKeys = (prefix: string) => ({
  ready: `${prefix}barrier:ready`,
  go: `${prefix}barrier:go`,
});

async function main(): Promise<void> {
  const redis = new Redis(url);
  const saver = new RedisCheckpointSaver({ redis, keyPrefix, forkGuard: true });
  const read = await saver.getTuple({ configurable: { thread_id: threadId } });
  if (!read) throw new Error(`thread ${threadId} has no checkpoint to extend`);
  const barrier = barrierKeys(keyPrefix);
  await redis.rpush(barrier.ready, name);
  await redis.blpop(barrier.go, 30);
  const step = Number(read.metadata?.step ?? 0) + 1;
  const checkpoint = { ...emptyCheckpoint(), id: uuid6(-1) };
  const metadata = { source: "loop" as const, step, parents: {}, writer: name };
  try {
    const stored = await saver.put(read.config, checkpoint, metadata, {});
    console.log(JSON.stringify({ outcome: "stored", id: stored.configurable?.checkpoint_id }));
  } catch (error) {
    const { name: errorName, conflict } = error as { name: string; conflict?: string };
    console.log(JSON.stringify({ outcome: errorName, conflict }));
  }
  await redis.quit();
}

// Only as a process: the test imports barrierKeys from here.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
