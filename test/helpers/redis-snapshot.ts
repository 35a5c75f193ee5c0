import type { Redis } from "ioredis";

/** One key as a test compares it: its type, its whole value, and its remaining TTL. */
export interface KeyState {
  type: string;
  value: unknown;
  /** Milliseconds left, -1 without expiry. A refreshed TTL shows as a larger number. */
  pttl: number;
}

/** Every key under `prefix` (SCAN, never KEYS) with its value: to prove a request wrote nothing. */
export async function snapshotPrefix(redis: Redis, prefix: string): Promise<Map<string, KeyState>> {
  const keys: string[] = [];
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  const snapshot = new Map<string, KeyState>();
  for (const key of [...new Set(keys)].sort()) {
    const type = await redis.type(key);
    snapshot.set(key, {
      type,
      value: await readValue(redis, key, type),
      pttl: await redis.pttl(key),
    });
  }
  return snapshot;
}

async function readValue(redis: Redis, key: string, type: string): Promise<unknown> {
  switch (type) {
    case "string":
      return redis.get(key);
    case "list":
      return redis.lrange(key, 0, -1);
    case "hash":
      return Object.entries(await redis.hgetall(key)).sort(([a], [b]) => (a < b ? -1 : 1));
    case "set":
      return (await redis.smembers(key)).sort();
    case "zset":
      return redis.zrange(key, "0", "-1", "WITHSCORES");
    default:
      return `<${type}>`;
  }
}

/** What changed between two snapshots: keys added, removed, rewritten, or given a fresh TTL. */
export function changedKeys(before: Map<string, KeyState>, after: Map<string, KeyState>): string[] {
  const changed = new Set<string>();
  for (const [key, was] of before) {
    const now = after.get(key);
    const sameValue =
      now && now.type === was.type && JSON.stringify(now.value) === JSON.stringify(was.value);
    // A TTL only counts down; a write that refreshes it makes it grow.
    const ttlRefreshed = now && (now.pttl > was.pttl || (now.pttl === -1) !== (was.pttl === -1));
    if (!sameValue || ttlRefreshed) changed.add(key);
  }
  for (const key of after.keys()) if (!before.has(key)) changed.add(key);
  return [...changed].sort();
}
