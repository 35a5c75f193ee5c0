import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Cluster, Redis } from "ioredis";

/** The project's Lua scripts (lib/store/commands/*.lua), each with its KEYS and ARGV in its header. */
export interface StoreCommands {
  appendMessages(list: string, ttlSeconds: number, ...messages: string[]): Promise<number>;
  replaceMessages(list: string, ttlSeconds: number, ...messages: string[]): Promise<number>;
  appendTurn(
    list: string,
    lease: string,
    turns: string,
    ttlSeconds: number,
    token: string,
    turnId: string,
    expectedLength: number,
    ...messages: string[]
  ): Promise<number>;
  acquireTurn(
    lease: string,
    turns: string,
    fence: string,
    messages: string,
    turnId: string,
    leaseMs: number,
    ttlSeconds: number,
    recent: number,
  ): Promise<string[]>;
  loadRecent(messages: string, recent: number): Promise<[number, ...string[]]>;
  releaseTurn(lease: string, holder: string): Promise<number>;
}

const SCRIPTS: Record<keyof StoreCommands, { file: string; keys: number }> = {
  appendMessages: { file: "append-messages.lua", keys: 1 },
  replaceMessages: { file: "replace-messages.lua", keys: 1 },
  appendTurn: { file: "append-turn.lua", keys: 3 },
  acquireTurn: { file: "acquire-turn.lua", keys: 4 },
  loadRecent: { file: "load-recent.lua", keys: 1 },
  releaseTurn: { file: "release-turn.lua", keys: 1 },
};

const defined = new WeakSet<Redis | Cluster>();

function scriptSource(file: string): string {
  return readFileSync(new URL(`./commands/${file}`, import.meta.url), "utf8");
}

/** Script name by the SHA1 that EVALSHA carries: to name scripts in MONITOR output. */
export function scriptNamesBySha(): Map<string, string> {
  return new Map(
    Object.entries(SCRIPTS).map(([name, { file }]) => [
      createHash("sha1").update(scriptSource(file)).digest("hex"),
      name,
    ]),
  );
}

/** Registers every script on the client once (ioredis EVALSHA, falling back to EVAL). */
export function withStoreCommands(redis: Redis | Cluster): (Redis | Cluster) & StoreCommands {
  if (!defined.has(redis)) {
    for (const [name, { file, keys }] of Object.entries(SCRIPTS)) {
      redis.defineCommand(name, { numberOfKeys: keys, lua: scriptSource(file) });
    }
    defined.add(redis);
  }
  return redis as (Redis | Cluster) & StoreCommands;
}

/** Every key of one conversation shares its hash tag, so one slot holds them all. */
export const conversationKeys = (conversationKey: string) => ({
  messages: `${conversationKey}:messages`,
  lease: `${conversationKey}:lease`,
  turns: `${conversationKey}:turns`,
  fence: `${conversationKey}:fence`,
});
