import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import type { ChatMessage, TurnResponse } from "../../service/contract.ts";
import { requestJson } from "../load/http-json.ts";
import { median, round } from "../stats.ts";
import type { BenchEnvironment } from "./bench-apps.ts";

export const GROWTH_LENGTHS = [10, 100, 1_000, 10_000] as const;

export interface GrowthRow {
  label: string;
  /** History length -> median latency of one turn, in ms. */
  medianMs: Record<number, number>;
  /** History length -> messages the agent was given on the last measured turn. */
  messagesSeen: Record<number, number>;
}

/**
 * Per-turn latency on conversations that already hold 10 ... 10,000 messages, written
 * straight into Redis. Only the Redis-backed apps: the in-memory one cannot be preloaded.
 */
export async function measureGrowth(
  env: BenchEnvironment,
  labels: readonly string[],
  turnsPerLength = 15,
): Promise<GrowthRow[]> {
  const rows: GrowthRow[] = [];
  for (const label of labels) {
    const app = env.apps.get(label);
    if (!app) continue;
    // The Redis this contender's app writes to (the AOF one has its own).
    const redis = new Redis(env.redisUrls.get(label) ?? env.redis.url);
    try {
      const row: GrowthRow = { label, medianMs: {}, messagesSeen: {} };
      for (const length of GROWTH_LENGTHS) {
        const conversationId = `grow-${length}-${randomBytes(3).toString("hex")}`;
        const keys = env.keysOf(conversationId);
        await preload(redis, keys.messages, length);
        const latencies: number[] = [];
        for (let i = 0; i < turnsPerLength; i++) {
          const started = performance.now();
          const res = await requestJson(`${app.url}/conversations/${conversationId}/turns`, {
            method: "POST",
            headers: { authorization: `Bearer ${env.token}`, "content-type": "application/json" },
            body: JSON.stringify({ text: `turn ${i} on a history of ${length}` }),
          });
          latencies.push(performance.now() - started);
          if (res.status !== 200) throw new Error(`${label}: turn answered ${res.status}`);
          row.messagesSeen[length] = (res.body as TurnResponse).messagesSeen;
        }
        row.medianMs[length] = round(median(latencies), 2);
        await redis.del(...Object.values(keys));
      }
      rows.push(row);
    } finally {
      redis.disconnect();
    }
  }
  return rows;
}

/** Writes `length` realistic messages in batches (one pipeline per 1,000). */
async function preload(redis: Redis, key: string, length: number): Promise<void> {
  const servedBy = { workerId: 0, pid: 0, hostname: "preload" };
  for (let start = 0; start < length; start += 1000) {
    const batch: string[] = [];
    for (let i = start; i < Math.min(length, start + 1000); i++) {
      const message: ChatMessage = {
        role: i % 2 === 0 ? "user" : "assistant",
        content: `message ${i}: ${"lorem ipsum dolor sit amet ".repeat(4)}`,
        turnId: `pre-${Math.floor(i / 2)}`,
        servedBy,
        at: new Date(0).toISOString(),
      };
      batch.push(JSON.stringify(message));
    }
    await redis.rpush(key, ...batch);
  }
  await redis.expire(key, 3600);
}
