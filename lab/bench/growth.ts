import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { median, round } from "../stats.ts";
import { type BenchEnvironment, contenderOf } from "./bench-apps.ts";
import { historyPreloadFor } from "./preload.ts";
import { type Traffic, trafficDuring } from "./redis-traffic.ts";
import { postTurn } from "./round-trips.ts";

export const GROWTH_LENGTHS = [10, 100, 1_000, 10_000] as const;

export interface GrowthRow {
  label: string;
  /** History length -> median latency of one turn, in ms. */
  medianMs: Record<number, number>;
  /** History length -> messages the agent was given on the last measured turn. */
  messagesSeen: Record<number, number>;
  /** History length -> Redis bytes of one turn, both ways (mean of the measured turns). */
  bytesPerTurn: Record<number, Traffic>;
}

export interface GrowthOptions {
  turnsPerLength?: number;
  lengths?: readonly number[];
}

/**
 * Per-turn latency and Redis bytes on conversations that already hold 10 ... 10,000 messages,
 * written straight into Redis in the shape each app stores them (preload.ts). Only the
 * Redis-backed apps: the in-memory ones cannot be preloaded. The turns are sequential and
 * nothing else uses that Redis meanwhile, so its byte counters are the turns' (redis-traffic.ts).
 */
export async function measureGrowth(
  env: BenchEnvironment,
  labels: readonly string[],
  { turnsPerLength = 15, lengths = GROWTH_LENGTHS }: GrowthOptions = {},
): Promise<GrowthRow[]> {
  const rows: GrowthRow[] = [];
  for (const label of labels) {
    if (!env.apps.has(label)) continue;
    const row: GrowthRow = { label, medianMs: {}, messagesSeen: {}, bytesPerTurn: {} };
    for (const length of lengths) {
      const measured = await measureLength(env, label, length, turnsPerLength);
      row.medianMs[length] = round(median(measured.latencies), 2);
      row.messagesSeen[length] = measured.messagesSeen;
      row.bytesPerTurn[length] = {
        sent: Math.round(measured.traffic.sent / turnsPerLength),
        received: Math.round(measured.traffic.received / turnsPerLength),
      };
    }
    rows.push(row);
  }
  return rows;
}

/** `turns` sequential turns on a conversation preloaded with `length` messages. */
async function measureLength(env: BenchEnvironment, label: string, length: number, turns: number) {
  const app = env.apps.get(label);
  if (!app) throw new Error(`${label} is not running`);
  const preload = historyPreloadFor(contenderOf(label).scenario);
  // The Redis this contender's app writes to (the AOF one has its own).
  const url = env.redisUrls.get(label) ?? env.redis.url;
  const redis = new Redis(url);
  const conversationId = `grow-${length}-${randomBytes(3).toString("hex")}`;
  const key = env.keyOf(conversationId);
  try {
    await preload.write(redis, key, length);
    const latencies: number[] = [];
    let messagesSeen = 0;
    const { traffic } = await trafficDuring(url, async () => {
      for (let i = 0; i < turns; i++) {
        const started = performance.now();
        const text = `turn ${i} on a history of ${length}`;
        const answer = await postTurn(env, app.url, conversationId, text, label);
        latencies.push(performance.now() - started);
        // A turn that did not see the preloaded history would time something else.
        if (answer.historyLength !== length + 2 * i) {
          throw new Error(
            `${label}: turn ${i} saw ${answer.historyLength} messages, not ${length + 2 * i}`,
          );
        }
        messagesSeen = answer.messagesSeen;
      }
    });
    return { latencies, messagesSeen, traffic };
  } finally {
    await preload.remove(redis, key);
    redis.disconnect();
  }
}
