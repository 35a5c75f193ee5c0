import type { Cluster, Redis } from "ioredis";
import type { ChatMessage } from "../contract.ts";
import { TurnFencedError } from "../errors.ts";
import {
  APPEND_TURN_REFUSALS,
  conversationKeys,
  type StoreCommands,
  withStoreCommands,
} from "./commands.ts";
import type { ConversationStore, Fence, RecentHistory } from "./conversation-store.ts";
import { readFromRedis } from "./redis-failures.ts";
import {
  NO_REPLICA_WAIT,
  type ReplicaWait,
  type WriteCommand,
  writeReplicated,
} from "./replica-wait.ts";

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

  /** Sends a write, with WAIT right behind it when replicas must have it; a refused append (negative) waits for nothing. */
  private write(command: WriteCommand<number>): Promise<number> {
    return writeReplicated(this.redis, this.replicaWait, command, (stored) => Number(stored) >= 0);
  }
}

/** Stored messages are JSON strings, oldest first. */
export function decodeMessages(raw: readonly string[]): ChatMessage[] {
  return raw.map((item) => JSON.parse(item) as ChatMessage);
}
