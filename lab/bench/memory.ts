import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import type { HealthResponse } from "../../service/contract.ts";
import { requestJson } from "../load/http-json.ts";
import { startAppCluster } from "../processes/app-cluster.ts";
import { round } from "../stats.ts";
import { type BenchEnvironment, benchLoad, contenderOf } from "./bench-apps.ts";

const _PREFIX = "agent-sandbox:";
const MB = 1024 * 1024;

export interface MemoryRow {
  label: string;
  /** Conversations written so far -> mean worker RSS / heap, in MB. */
  checkpoints: { conversations: number; rssMb: number; heapMb: number }[];
}

export interface RedisMemory {
  /** MEMORY USAGE of one conversation's keys, averaged over a sample. */
  bytesPerConversation: number;
  messagesPerConversation: number;
}

export interface TtlCheck {
  ttlSeconds: number;
  conversations: number;
  presentBefore: number;
  presentAfter: number;
  waitedSeconds: number;
}

/** Mean RSS and heap of the app's workers, asked over fresh connections (round robin). */
async function workerMemory(url: string, workers: number) {
  const byPid = new Map<number, HealthResponse["memory"]>();
  for (let i = 0; i < workers * 4 && byPid.size < workers; i++) {
    const res = await requestJson(`${url}/healthz`);
    const body = res.body as HealthResponse;
    byPid.set(body.servedBy.pid, body.memory);
  }
  const values = [...byPid.values()];
  const mean = (f: (m: HealthResponse["memory"]) => number) =>
    round(values.reduce((a, m) => a + f(m), 0) / values.length / MB, 1);
  return { rssMb: mean((m) => m.rssBytes), heapMb: mean((m) => m.heapUsedBytes) };
}

/** Worker memory as conversations accumulate: the in-process store only grows. */
export async function measureWorkerMemory(
  env: BenchEnvironment,
  labels: readonly string[],
  options: { workers: number; batches: number; conversationsPerBatch: number; turns: number },
): Promise<{ rows: MemoryRow[]; redis: RedisMemory | undefined }> {
  const rows: MemoryRow[] = [];
  let redisMemory: RedisMemory | undefined;
  for (const label of labels) {
    const app = env.apps.get(label);
    if (!app) continue;
    const row: MemoryRow = { label, checkpoints: [] };
    row.checkpoints.push({ conversations: 0, ...(await workerMemory(app.url, options.workers)) });
    let conversationIds: string[] = [];
    for (let batch = 1; batch <= options.batches; batch++) {
      const load = await benchLoad(app.url, env.token, {
        conversations: options.conversationsPerBatch,
        turns: options.turns,
        connections: 8,
        workers: options.workers,
      });
      conversationIds = [...new Set(load.turns.map((t) => t.conversationId))];
      row.checkpoints.push({
        conversations: batch * options.conversationsPerBatch,
        ...(await workerMemory(app.url, options.workers)),
      });
    }
    rows.push(row);
    if (contenderOf(label).app === "fixed") {
      const redisUrl = env.redisUrls.get(label) ?? env.redis.url;
      redisMemory = await conversationFootprint(
        env,
        redisUrl,
        conversationIds.slice(0, 50),
        options.turns,
      );
    }
  }
  return { rows, redis: redisMemory };
}

async function conversationFootprint(
  env: BenchEnvironment,
  redisUrl: string,
  conversationIds: string[],
  turns: number,
): Promise<RedisMemory> {
  const redis = new Redis(redisUrl);
  try {
    let total = 0;
    for (const id of conversationIds) {
      const keys = env.keysOf(id);
      for (const key of Object.values(keys)) {
        total += Number((await redis.call("MEMORY", "USAGE", key)) ?? 0);
      }
    }
    return {
      bytesPerConversation: Math.round(total / Math.max(1, conversationIds.length)),
      messagesPerConversation: 2 * turns,
    };
  } finally {
    redis.disconnect();
  }
}

/** A fixed app with a short idle TTL: its conversations are gone once idle for longer. */
export async function checkTtl(env: BenchEnvironment, ttlSeconds = 2): Promise<TtlCheck> {
  const app = await startAppCluster({
    app: "fixed",
    scenario: "memory",
    workers: 2,
    env: {
      REDIS_URL: env.redis.url,
      AUTH_SECRET: env.secret,
      CONVERSATION_TTL_SECONDS: String(ttlSeconds),
      LOG_LEVEL: "warn",
    },
  });
  const redis = new Redis(env.redis.url);
  try {
    const load = await benchLoad(app.url, env.token, {
      conversations: 20,
      turns: 2,
      connections: 4,
      workers: 2,
    });
    const ids = [...new Set(load.turns.map((t) => t.conversationId))];
    const present = async () => {
      let count = 0;
      for (const id of ids) {
        const keys = env.keysOf(id);
        count += (await redis.exists(keys.messages)) ? 1 : 0;
      }
      return count;
    };
    const presentBefore = await present();
    const waitedSeconds = ttlSeconds + 1;
    await sleep(waitedSeconds * 1000);
    return {
      ttlSeconds,
      conversations: ids.length,
      presentBefore,
      presentAfter: await present(),
      waitedSeconds,
    };
  } finally {
    redis.disconnect();
    await app.stop();
  }
}
