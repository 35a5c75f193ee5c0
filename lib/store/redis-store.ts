import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
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
    const encoded = messages.map((m) => JSON.stringify(m));
    return this.call(() =>
      this.redis.appendMessages(
        RedisConversationStore.messagesKey(key),
        this.ttlSeconds,
        ...encoded,
      ),
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
}
