import type { Cluster, Redis } from "ioredis";
import type { ChatMessage } from "../contract.ts";
import { StoreWriteUncertainError, TurnFencedError } from "../errors.ts";
import {
  APPEND_TURN_REFUSALS,
  conversationKeys,
  type StoreCommands,
  withStoreCommands,
} from "./commands.ts";
import type { ConversationStore, Fence, RecentHistory } from "./conversation-store.ts";
import { readFromRedis, writeFailure, writeToRedis } from "./redis-failures.ts";
import { NO_REPLICA_WAIT, type ReplicaWait } from "./replica-wait.ts";

/** A write command, given the client to send it on, or the pipeline to queue it in. */
type WriteCommand = (target: StoreCommands) => Promise<number>;

/**
 * Conversation histories as Redis lists of JSON messages, one list per conversation key.
 * A fenced append (see TurnGate) is refused unless the lease is still the turn's and the
 * history is the one it read (append-turn-4.lua). With `replicaWait.replicas > 0` every write
 * goes out with a WAIT in the same pipeline, and counts as stored only once replicas have it.
 */
export class RedisConversationStore implements ConversationStore {
  readonly backend = "redis";
  private readonly redis: (Redis | Cluster) & StoreCommands;

  constructor(
    redis: Redis | Cluster,
    private readonly ttlSeconds: number,
    private readonly replicaWait: ReplicaWait = NO_REPLICA_WAIT,
  ) {
    this.redis = withStoreCommands(redis);
  }

  /** The list's own key: the conversation key plus a suffix, inside the same hash slot. */
  static messagesKey(conversationKey: string): string {
    return conversationKeys(conversationKey).messages;
  }

  async load(key: string): Promise<ChatMessage[]> {
    const raw = await readFromRedis(() => this.redis.lrange(conversationKeys(key).messages, 0, -1));
    return decodeMessages(raw);
  }

  async loadRecent(key: string, recent: number): Promise<RecentHistory> {
    const [length, ...raw] = await readFromRedis(() =>
      this.redis.loadRecent(conversationKeys(key).messages, recent),
    );
    return { messages: decodeMessages(raw), length };
  }

  async loadRange(key: string, start: number, count: number): Promise<ChatMessage[]> {
    // Without this guard a count of 0 would be LRANGE start -1: everything from start on.
    if (count <= 0) return [];
    const list = conversationKeys(key).messages;
    const raw = await readFromRedis(() => this.redis.lrange(list, start, start + count - 1));
    return decodeMessages(raw);
  }

  async append(key: string, messages: readonly ChatMessage[], fence?: Fence): Promise<number> {
    const keys = conversationKeys(key);
    // Nothing to store: no write, and no fence to check (a leased turn keeps its lease).
    if (messages.length === 0) return readFromRedis(() => this.redis.llen(keys.messages));
    const encoded = messages.map((m) => JSON.stringify(m));
    if (!fence) {
      return this.write((to) => to.appendMessages(keys.messages, this.ttlSeconds, ...encoded));
    }
    const { token, turnId, expectedLength, done } = fence;
    const after = await this.write((to) =>
      to.appendTurn(
        keys.messages,
        keys.lease,
        keys.turns,
        done?.key ?? keys.messages,
        this.ttlSeconds,
        token,
        turnId,
        expectedLength,
        done?.id ?? "",
        done?.data ?? "",
        done?.ttlSeconds ?? 0,
        ...encoded,
      ),
    );
    const refusal = APPEND_TURN_REFUSALS[after as keyof typeof APPEND_TURN_REFUSALS];
    if (refusal) throw new TurnFencedError(refusal);
    return after;
  }

  async replace(key: string, messages: readonly ChatMessage[]): Promise<number> {
    const encoded = messages.map((m) => JSON.stringify(m));
    return this.write((to) =>
      to.replaceMessages(conversationKeys(key).messages, this.ttlSeconds, ...encoded),
    );
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /** Sends a write, and with replicas to wait for, WAIT right behind it: still one round trip. */
  private async write(command: WriteCommand): Promise<number> {
    const { replicas, timeoutMs } = this.replicaWait;
    if (replicas === 0) return writeToRedis(() => command(this.redis));
    const batch = this.redis.pipeline();
    // A pipeline queues the script like the client would send it (ioredis defines the
    // commands on both); what it returns is the pipeline, not the reply, so it is not awaited.
    command(batch as unknown as StoreCommands);
    batch.wait(replicas, timeoutMs);
    const [write, wait] = (await writeToRedis(() => batch.exec())) ?? [];
    // A command of a pipeline fails on its own (its error in the results) when its connection
    // drops: the same two outcomes as a lone command.
    if (!write || write[0]) throw writeFailure(write?.[0] ?? new Error("no reply to the write"));
    const stored = Number(write[1]);
    // A refused append (negative) stored nothing: there is nothing to wait for.
    if (stored < 0) return stored;
    requireReplicas(wait, this.replicaWait);
    return stored;
  }
}

/**
 * Confirms that enough replicas have everything written to `key`'s node so far: for a turn
 * answered from the store (a retry of a turn already stored), which is acknowledged again.
 * WAIT only counts this connection's own writes, so a keyed write goes first (the key's
 * expiry, refreshed): a replica that has it also has every earlier write of that stream, the
 * stored turn included. Too few replicas: StoreWriteUncertainError, as for a new write.
 */
export async function confirmReplicated(
  redis: Redis | Cluster,
  key: string,
  ttlSeconds: number,
  replicaWait: ReplicaWait,
): Promise<void> {
  const { replicas, timeoutMs } = replicaWait;
  if (replicas === 0) return;
  const [refresh, wait] =
    (await writeToRedis(() =>
      redis.pipeline().expire(key, ttlSeconds).wait(replicas, timeoutMs).exec(),
    )) ?? [];
  if (!refresh || refresh[0]) throw writeFailure(refresh?.[0] ?? new Error("no reply"));
  requireReplicas(wait, replicaWait);
}

/** WAIT's reply in a pipeline's results: too few replicas (or no reply) is an uncertain write. */
function requireReplicas(wait: [Error | null, unknown] | undefined, replicaWait: ReplicaWait) {
  const confirmed = wait?.[0] ? 0 : Number(wait?.[1] ?? 0);
  if (confirmed < replicaWait.replicas) {
    throw new StoreWriteUncertainError(new ReplicasBehindError(confirmed, replicaWait));
  }
}

/** The primary stored the write, but too few replicas confirmed it: a failover could lose it. */
export class ReplicasBehindError extends Error {
  override readonly name = "ReplicasBehindError";

  constructor(confirmed: number, { replicas, timeoutMs }: ReplicaWait) {
    super(`${confirmed} of ${replicas} replicas confirmed the write within ${timeoutMs} ms`);
  }
}

/** Stored messages are JSON strings, oldest first. */
export function decodeMessages(raw: readonly string[]): ChatMessage[] {
  return raw.map((item) => JSON.parse(item) as ChatMessage);
}
