import { randomBytes } from "node:crypto";
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
  /** Conversations whose history was there right after their last turn was answered. */
  presentBefore: number;
  presentAfter: number;
  /** From the last conversation's write to the read that found none left (or the deadline). */
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

/**
 * A fixed app with a short idle TTL: its conversations are gone once idle for longer.
 * Each conversation's presence is checked right after its last turn is answered (one HTTP
 * answer and one EXISTS after the write that set its TTL), so a slow machine cannot let it
 * expire before it is counted. Then the check waits for them to go, up to 1 s past the TTL:
 * Redis expires a key by its own clock when it is next read, so the count a late read gets
 * does not depend on how busy the machine is.
 */
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
    const run = randomBytes(4).toString("hex");
    const ids = Array.from({ length: TTL_CONVERSATIONS }, (_, i) => `ttl-${run}-${i}`);
    const exists = async (id: string) => (await redis.exists(env.keysOf(id).messages)) === 1;
    let presentBefore = 0;
    let lastWrittenAt = 0;
    for (const id of ids) {
      for (let turn = 0; turn < TTL_TURNS; turn++) {
        const res = await requestJson(`${app.url}/conversations/${id}/turns`, {
          method: "POST",
          headers: { authorization: `Bearer ${env.token}`, "content-type": "application/json" },
          body: JSON.stringify({ text: `ttl ${turn}` }),
        });
        if (res.status !== 200) throw new Error(`TTL check: turn answered ${res.status}`);
      }
      lastWrittenAt = performance.now();
      if (await exists(id)) presentBefore++;
    }
    const present = async () => {
      let count = 0;
      for (const id of ids) count += (await exists(id)) ? 1 : 0;
      return count;
    };
    // Every key's TTL was set before lastWrittenAt: a read after the deadline finds none
    // that honours it, however late that read comes.
    const deadline = lastWrittenAt + (ttlSeconds + 1) * 1000;
    let presentAfter: number;
    for (;;) {
      const readAt = performance.now();
      presentAfter = await present();
      // Done when all are gone, or when a read that began after the deadline still finds some.
      if (presentAfter === 0 || readAt >= deadline) break;
      await sleep(EXPIRY_POLL_MS);
    }
    return {
      ttlSeconds,
      conversations: ids.length,
      presentBefore,
      presentAfter,
      waitedSeconds: round((performance.now() - lastWrittenAt) / 1000, 1),
    };
  } finally {
    redis.disconnect();
    await app.stop();
  }
}

/** The TTL check's conversations, their turns each, and how often it looks for expired ones. */
const TTL_CONVERSATIONS = 20;
const TTL_TURNS = 2;
const EXPIRY_POLL_MS = 50;
