import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { Cluster, Redis } from "ioredis";

/**
 * The project's Lua scripts: `commands/<name>-<numKeys>.lua`, each with its KEYS and ARGV
 * in its header. The file name says how many of the arguments are keys.
 */
export interface StoreCommands {
  appendMessages(list: string, ttlSeconds: number, ...messages: string[]): Promise<number>;
  replaceMessages(list: string, ttlSeconds: number, ...messages: string[]): Promise<number>;
  appendTurn(
    list: string,
    lease: string,
    turns: string,
    stream: string,
    ttlSeconds: number,
    token: string,
    turnId: string,
    expectedLength: number,
    doneId: number | "",
    doneData: string,
    streamTtlSeconds: number,
    ...messages: string[]
  ): Promise<number>;
  /** stream-append-2.lua: events written, or -1 lease lost. */
  streamAppend(
    stream: string,
    lease: string,
    holder: string,
    reset: "0" | "1",
    ttlSeconds: number,
    maxEvents: number,
    ...idTypeData: (string | number)[]
  ): Promise<number>;
  /** stream-state-2.lua: running, missing, ended, open or interrupted. */
  streamState(
    stream: string,
    lease: string,
    turnId: string,
    leased: "0" | "1",
    errorData: string,
    ttlSeconds: number,
    sawRunning: "0" | "1",
  ): Promise<"running" | "missing" | "ended" | "open" | "interrupted">;
  acquireTurn(
    lease: string,
    turns: string,
    fence: string,
    messages: string,
    turnId: string,
    leaseMs: number,
    ttlSeconds: number,
    recent: number,
    nonce: string,
  ): Promise<string[]>;
  loadRecent(messages: string, recent: number): Promise<[number, ...string[]]>;
  releaseTurn(lease: string, holder: string): Promise<number>;
  renewTurn(lease: string, holder: string, leaseMs: number): Promise<number>;
  /** agents-session-add-5.lua: the list's length after the append, or -1 / -3 refused. */
  agentsSessionAdd(
    items: string,
    operations: string,
    lease: string,
    turns: string,
    stream: string,
    ttlSeconds: number,
    holder: string,
    turnId: string,
    position: number,
    doneId: number | "",
    doneData: string,
    streamTtlSeconds: number,
    ...json: string[]
  ): Promise<number>;
  /** agents-session-pop-2.lua: the newest item's JSON, or null. */
  agentsSessionPop(items: string, operations: string, ttlSeconds: number): Promise<string | null>;
  /** agents-session-clear-2.lua: keys deleted. */
  agentsSessionClear(items: string, operations: string): Promise<number>;
  /** agents-session-transaction-2.lua: 1 applied, 0 already applied, -1 / -2 refused. */
  agentsSessionTransaction(
    items: string,
    operations: string,
    ttlSeconds: number,
    operationId: string,
    transaction: string,
    suffixLength: number,
    ...json: string[]
  ): Promise<number>;
  /** checkpoint-put-8.lua: `[code, newest]`, code 1 stored, -1 to -4 refused (see the script). */
  checkpointPut(
    ...args: [
      ...CheckpointKeys,
      turns: string,
      stream: string,
      ttlSeconds: number,
      holder: string,
      forkGuard: "0" | "1",
      parentId: string,
      checkpointId: string,
      namespace: string,
      record: string,
      turnId: string,
      position: number,
      doneId: number | "",
      doneData: string,
      streamTtlSeconds: number,
      keepCheckpoints: number,
      ...blobPairs: string[],
    ]
  ): Promise<[number, string]>;
  /** checkpoint-put-writes-6.lua: writes stored (0 or more), or -1 lease lost. */
  checkpointPutWrites(
    ...args: [
      ...CheckpointKeys,
      ttlSeconds: number,
      holder: string,
      checkpointId: string,
      namespace: string,
      ...writeTriples: string[],
    ]
  ): Promise<number>;
  /** checkpoint-get-4.lua: `[id, record, writes, parentWrites, ...values]`, or null. */
  checkpointGet(
    index: string,
    checkpoints: string,
    blobs: string,
    writes: string,
    checkpointId: string,
  ): Promise<string[] | null>;
  /** checkpoint-delete-thread-1.lua: the number of keys deleted. */
  checkpointDeleteThread(namespaces: string, threadBase: string): Promise<number>;
}

/**
 * The six keys both checkpoint write scripts start with, in order: one namespace's keys of a thread
 * (see RedisCheckpointSaver), and the lease that fences the write (or a stand-in key).
 */
export type CheckpointKeys = [
  namespaces: string,
  index: string,
  checkpoints: string,
  blobs: string,
  writes: string,
  lease: string,
];

/** What append-turn-4.lua returns instead of a length when it refuses the write. */
export const APPEND_TURN_REFUSALS = {
  [-1]: "lease_lost",
  [-2]: "history_changed",
  [-3]: "already_stored",
} as const;

const COMMANDS_DIR = new URL("./commands/", import.meta.url);
const SCRIPT_FILE = /^([a-z-]+)-(\d+)\.lua$/;

/** Every script: its command name (camelCase of the file's name), key count and source. */
const SCRIPTS = readdirSync(COMMANDS_DIR).flatMap((file) => {
  const match = SCRIPT_FILE.exec(file);
  if (!match?.[1] || !match[2]) return [];
  const name = match[1].replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
  const lua = readFileSync(new URL(file, COMMANDS_DIR), "utf8");
  return [{ name: name as keyof StoreCommands, numberOfKeys: Number(match[2]), lua }];
});

const defined = new WeakSet<Redis | Cluster>();

/** Script name by the SHA1 that EVALSHA carries: to name scripts in MONITOR output. */
export function scriptNamesBySha(): Map<string, string> {
  return new Map(
    SCRIPTS.map(({ name, lua }) => [createHash("sha1").update(lua).digest("hex"), name]),
  );
}

/** Registers every script on the client once (ioredis EVALSHA, falling back to EVAL). */
export function withStoreCommands(redis: Redis | Cluster): (Redis | Cluster) & StoreCommands {
  if (!defined.has(redis)) {
    for (const { name, numberOfKeys, lua } of SCRIPTS) {
      redis.defineCommand(name, { numberOfKeys, lua });
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

/** The stream of one streamed turn: in its conversation's slot, so its done can be appended with it. */
export const streamKeyOf = (conversationKey: string, turnId: string) =>
  `${conversationKey}:stream:${turnId}`;
