import { readFileSync } from "node:fs";
import { type Redis, ReplyError } from "ioredis";
import { StoreUnavailableError } from "../errors.ts";
import type { ChatMessage } from "../types.ts";
import type { ConversationStore } from "./conversation-store.ts";

const appendMessagesLua = readFileSync(
  new URL("./commands/append-messages.lua", import.meta.url),
  "utf8",
);

interface StoreCommands {
  appendMessages(key: string, ttlSeconds: number, ...messages: string[]): Promise<number>;
}

/** Conversation histories as Redis lists of JSON messages, one list per conversation key. */
export class RedisConversationStore implements ConversationStore {
  readonly backend = "redis";
  private readonly redis: Redis & StoreCommands;

  constructor(
    redis: Redis,
    private readonly ttlSeconds: number,
  ) {
    redis.defineCommand("appendMessages", { numberOfKeys: 1, lua: appendMessagesLua });
    this.redis = redis as Redis & StoreCommands;
  }

  /** The list's own key: the conversation key plus a suffix, inside the same hash slot. */
  static messagesKey(conversationKey: string): string {
    return `${conversationKey}:messages`;
  }

  async load(key: string): Promise<ChatMessage[]> {
    const raw = await this.call(() =>
      this.redis.lrange(RedisConversationStore.messagesKey(key), 0, -1),
    );
    return raw.map((item) => JSON.parse(item) as ChatMessage);
  }

  async append(key: string, messages: readonly ChatMessage[]): Promise<number> {
    if (messages.length === 0) {
      return this.call(() => this.redis.llen(RedisConversationStore.messagesKey(key)));
    }
    const encoded = messages.map((m) => JSON.stringify(m));
    try {
      return await this.redis.appendMessages(
        RedisConversationStore.messagesKey(key),
        this.ttlSeconds,
        ...encoded,
      );
    } catch (error) {
      throw new StoreUnavailableError(error, neverApplied(error));
    }
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
