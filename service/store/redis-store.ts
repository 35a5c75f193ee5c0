import { type Cluster, type Redis, ReplyError } from "ioredis";
import type { ChatMessage } from "../contract.ts";
import { HttpError, StoreUnavailableError } from "../errors.ts";
import { turnFence } from "../turns/turn-context.ts";
import { conversationKeys, type StoreCommands, withStoreCommands } from "./commands.ts";
import type { ConversationStore, RecentHistory } from "./conversation-store.ts";

/**
 * Conversation histories as Redis lists of JSON messages, one list per conversation key.
 * Inside a turn that holds the conversation's lease (see TurnGate), appends are fenced:
 * refused unless the lease is still the turn's and the history is the one it loaded.
 */
export class RedisConversationStore implements ConversationStore {
  readonly backend = "redis";
  private readonly redis: (Redis | Cluster) & StoreCommands;

  constructor(
    redis: Redis | Cluster,
    private readonly ttlSeconds: number,
  ) {
    this.redis = withStoreCommands(redis);
  }

  /** The list's own key: the conversation key plus a suffix, inside the same hash slot. */
  static messagesKey(conversationKey: string): string {
    return conversationKeys(conversationKey).messages;
  }

  async load(key: string): Promise<ChatMessage[]> {
    const raw = await this.call(() => this.redis.lrange(conversationKeys(key).messages, 0, -1));
    // The turn's first read is its version; a later read does not move it.
    const fence = fenceFor(key);
    if (fence && fence.loadedLength === undefined) fence.loadedLength = raw.length;
    return raw.map((item) => JSON.parse(item) as ChatMessage);
  }

  async loadRecent(key: string, recent: number): Promise<RecentHistory> {
    const fence = fenceFor(key);
    const prefetched = fence?.prefetched;
    let length: number;
    let raw: string[];
    if (prefetched && prefetched.recent === recent) {
      // Came with the turn's lease: no second round trip.
      ({ length, raw } = prefetched);
      if (fence) fence.prefetched = undefined;
    } else {
      const reply = await this.call(() =>
        this.redis.loadRecent(conversationKeys(key).messages, recent),
      );
      [length, ...raw] = reply;
    }
    if (fence && fence.loadedLength === undefined) fence.loadedLength = length;
    return { messages: raw.map((item) => JSON.parse(item) as ChatMessage), length };
  }

  async append(key: string, messages: readonly ChatMessage[]): Promise<number> {
    const keys = conversationKeys(key);
    if (messages.length === 0) return this.call(() => this.redis.llen(keys.messages));
    const encoded = messages.map((m) => JSON.stringify(m));
    const fence = fenceFor(key);
    const after = await this.write(() =>
      fence
        ? this.redis.appendTurn(
            keys.messages,
            keys.lease,
            keys.turns,
            this.ttlSeconds,
            fence.token,
            fence.turnId,
            fence.loadedLength ?? -1,
            ...encoded,
          )
        : this.redis.appendMessages(keys.messages, this.ttlSeconds, ...encoded),
    );
    if (fence) fence.released = true;
    return after;
  }

  async replace(key: string, messages: readonly ChatMessage[]): Promise<number> {
    const encoded = messages.map((m) => JSON.stringify(m));
    return this.write(() =>
      this.redis.replaceMessages(conversationKeys(key).messages, this.ttlSeconds, ...encoded),
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

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }

  private async write<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw fencedWriteError(error) ?? new StoreUnavailableError(error, neverApplied(error));
    }
  }
}

/** A write the fenced append script refused on purpose: nothing was stored. */
function fencedWriteError(error: unknown): HttpError | undefined {
  if (!(error instanceof ReplyError)) return undefined;
  const message = (error as Error).message;
  if (message.startsWith("FENCED") || message.startsWith("STALE")) {
    return new HttpError(409, "turn_fenced", `nothing was stored: ${message.toLowerCase()}`);
  }
  if (message.startsWith("DUPLICATE")) {
    return new HttpError(409, "turn_in_progress", "this turn is already stored");
  }
  return undefined;
}

/**
 * True when the failed write certainly did not happen: it was refused before being sent
 * (offline, with the offline queue disabled) or Redis answered with an error. A timeout
 * or a connection lost mid-command leaves the outcome unknown.
 */
function neverApplied(error: unknown): boolean {
  if (error instanceof ReplyError) return true;
  return error instanceof Error && /enableOfflineQueue|Stream isn't writeable/.test(error.message);
}

/** The fence of the turn this call runs in, if it is a turn of this very conversation. */
function fenceFor(key: string) {
  const fence = turnFence.getStore();
  return fence?.key === key ? fence : undefined;
}
