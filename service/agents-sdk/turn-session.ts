import type { AgentInputItem, Session } from "@openai/agents-core";
import type { Cluster, Redis } from "ioredis";
import { TurnFencedError } from "../errors.ts";
import { type StoreCommands, withStoreCommands } from "../store/commands.ts";
import { NO_REPLICA_WAIT, type ReplicaWait, writeReplicated } from "../store/replica-wait.ts";
import type { TurnRecord } from "../turns/leased-store.ts";
import { encodeItem, RedisSession, redisSessionKeys } from "./redis-session.ts";

/** One turn's session: the conversation's items, how much of them a run reads, the expiry. */
export interface TurnSessionOptions {
  /** A Redis or a Cluster client. */
  redis: Redis | Cluster;
  /** The conversation key, hash tag included: the same items as `RedisSession` with this key. */
  key: string;
  /** A read returns at most this many of the newest items: the Runner asks for all of them. */
  recentItems: number;
  /** Idle expiry refreshed by the commit; absent or 0: the keys never expire. */
  ttlSeconds?: number;
  /** How many replicas must have the commit before it counts as stored (Redis WAIT); default none. */
  replicaWait?: ReplicaWait;
}

/**
 * One turn's Agents SDK session over the items a `RedisSession` of the same key holds. The
 * Runner reads the history once when a run starts and adds the run's items once when it ends
 * (a non-streamed run, in 0.20.0). Here the read returns only the `recentItems` newest items,
 * with the whole history's length (`historyLength`), in one script; the items the run adds
 * are held until `commit()`, which appends them in one script (agents-session-add-5.lua), with
 * the turn's record when the turn holds a lease: fenced, the turn recorded for replays, the
 * lease ended. A run that fails adds nothing, so nothing is stored. Build one per turn.
 */
export class TurnSession implements Session {
  private readonly redis: (Redis | Cluster) & StoreCommands;
  private readonly keys: ReturnType<typeof redisSessionKeys>;
  /** The reads: the stored items, the newest `recentItems` at most. */
  private readonly stored: RedisSession;
  private readonly held: AgentInputItem[] = [];

  constructor(private readonly options: TurnSessionOptions) {
    this.redis = withStoreCommands(options.redis);
    this.keys = redisSessionKeys(options.key);
    this.stored = new RedisSession(options);
  }

  /** The whole history's length at the last read; undefined before the run read it. */
  get historyLength(): number | undefined {
    return this.stored.historyLength;
  }

  async getSessionId(): Promise<string> {
    return this.options.key;
  }

  /** The newest stored items (at most `limit`, and `recentItems`), then the held ones. */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    const recent = Math.min(limit ?? Number.POSITIVE_INFINITY, this.options.recentItems);
    if (recent <= 0) return [];
    return [...(await this.stored.getItems(recent)), ...this.held].slice(-recent);
  }

  /** Holds the run's items until `commit()`; checked now, so a bad item fails the run. */
  async addItems(items: AgentInputItem[]): Promise<void> {
    for (const item of items) encodeItem(item);
    this.held.push(...items);
  }

  async popItem(): Promise<AgentInputItem | undefined> {
    throw new Error("a turn's session only appends: pop items with a RedisSession");
  }

  async clearSession(): Promise<void> {
    throw new Error("a turn's session only appends: clear it with a RedisSession");
  }

  /**
   * Appends the run's items, with `record` (and the turn's `position` in the history) when
   * the turn holds a lease. Throws TurnFencedError when the lease is lost or the turn is
   * already stored; nothing is stored then.
   */
  async commit(record: TurnRecord | undefined, position: number): Promise<void> {
    if (this.held.length === 0) throw new Error("the run added no items: nothing to commit");
    const { items, operations } = this.keys;
    const encoded = this.held.map(encodeItem);
    const replicaWait = this.options.replicaWait ?? NO_REPLICA_WAIT;
    const outcome = await writeReplicated(
      this.redis,
      replicaWait,
      (to) =>
        to.agentsSessionAdd(
          items,
          operations,
          record?.leaseKey ?? items,
          record?.turnsKey ?? items,
          record?.done?.key ?? items,
          this.options.ttlSeconds ?? 0,
          record?.holder ?? "",
          record?.turnId ?? "",
          position,
          record?.done?.id ?? "",
          record?.done?.data ?? "",
          record?.done?.ttlSeconds ?? 0,
          ...encoded,
        ),
      // A refused commit (negative) wrote nothing: nothing to wait for.
      (length) => length >= 0,
    );
    if (outcome === -1) throw new TurnFencedError("lease_lost");
    if (outcome === -3) throw new TurnFencedError("already_stored");
  }
}
