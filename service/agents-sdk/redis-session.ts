import {
  type AgentInputItem,
  protocol,
  type SessionHistoryTransaction,
  type SessionHistoryTransactionArgs,
  type SessionHistoryTransactionAwareSession,
  UserError,
} from "@openai/agents-core";
import type { Cluster, Redis } from "ioredis";
import { readFromRedis, writeToRedis } from "../store/redis-failures.ts";

/** How to reach one session's history: the client, the conversation key, the idle expiry. */
export interface RedisSessionOptions {
  /** A Redis or a Cluster client; the session's scripts are defined on it once. */
  redis: Redis | Cluster;
  /** The conversation key, hash tag included: every key of the session shares its slot. */
  key: string;
  /** Idle expiry refreshed by every write; absent or 0: the keys never expire. */
  ttlSeconds?: number;
}

/** A replace_suffix transaction was refused: the history no longer ends with its expectedSuffix. */
export class HistorySuffixMismatchError extends UserError {
  override readonly name = "HistorySuffixMismatchError";

  constructor() {
    super("Session history suffix no longer matches the transaction precondition.");
  }
}

/** The operationId was already applied with a different transaction: nothing was changed. */
export class HistoryOperationConflictError extends UserError {
  override readonly name = "HistoryOperationConflictError";

  constructor(readonly operationId: string) {
    super("Session history operation was already applied with a different transaction.");
  }
}

/** A transaction or an item that cannot be stored as JSON and compared exactly: refused before any write. */
export class InvalidSessionDataError extends UserError {
  override readonly name = "InvalidSessionDataError";
}

/** The two keys of one session, both inside the conversation key's hash slot. */
export const redisSessionKeys = (key: string) => ({
  /** The items, as canonical JSON strings, oldest first. */
  items: `${key}:agent-items`,
  /** operationId -> the canonical JSON of the transaction applied under it. */
  operations: `${key}:agent-operations`,
});

// ---- Lua: one script per mutating operation, so each is atomic on the server. ----

/** Shared Lua helpers: RPUSH in chunks (unpack has a stack limit), expiry refresh. */
const LUA_HELPERS = `
local function push(key, from, to)
  for first = from, to, 1000 do
    redis.call("RPUSH", key, unpack(ARGV, first, math.min(first + 999, to)))
  end
end
local function refresh(ttl)
  if ttl > 0 then
    redis.call("EXPIRE", KEYS[1], ttl)
    redis.call("EXPIRE", KEYS[2], ttl)
  end
end
`;

/**
 * agentsSessionAdd: appends items and refreshes the expiry.
 *   KEYS[1] item list, KEYS[2] operations hash
 *   ARGV[1] expiry in seconds (0: none), ARGV[2..] the items as JSON, in order
 *   returns the list's length after the append
 */
const ADD_ITEMS_LUA = `${LUA_HELPERS}
push(KEYS[1], 2, #ARGV)
refresh(tonumber(ARGV[1]))
return redis.call("LLEN", KEYS[1])
`;

/**
 * agentsSessionPop: removes and returns the newest item, refreshing the expiry.
 *   KEYS[1] item list, KEYS[2] operations hash
 *   ARGV[1] expiry in seconds (0: none)
 *   returns the item's JSON, or nil when the list is empty
 */
const POP_ITEM_LUA = `${LUA_HELPERS}
local item = redis.call("RPOP", KEYS[1])
refresh(tonumber(ARGV[1]))
return item
`;

/**
 * agentsSessionClear: deletes the items and the applied operationIds together.
 *   KEYS[1] item list, KEYS[2] operations hash
 *   returns the number of keys deleted
 */
const CLEAR_LUA = `return redis.call("DEL", KEYS[1], KEYS[2])`;

/**
 * agentsSessionTransaction: replaces the last n items by new ones if they are the expected
 * ones, once per operationId (append_items is the case n = 0).
 *   KEYS[1] item list, KEYS[2] operations hash
 *   ARGV[1] expiry in seconds (0: none), ARGV[2] operationId, ARGV[3] the transaction's
 *   canonical JSON, ARGV[4] n, ARGV[5..4+n] the expected suffix, ARGV[5+n..] the new items
 *   returns 1 applied, 0 already applied (same transaction), -1 operationId used by another
 *   transaction, -2 suffix mismatch; nothing changes unless 1
 */
const TRANSACTION_LUA = `${LUA_HELPERS}
local applied = redis.call("HGET", KEYS[2], ARGV[2])
if applied then
  if applied == ARGV[3] then return 0 end
  return -1
end
local n = tonumber(ARGV[4])
local length = redis.call("LLEN", KEYS[1])
if n > length then return -2 end
if n > 0 then
  local suffix = redis.call("LRANGE", KEYS[1], -n, -1)
  for i = 1, n do
    if suffix[i] ~= ARGV[4 + i] then return -2 end
  end
  if n == length then
    redis.call("DEL", KEYS[1])
  else
    redis.call("LTRIM", KEYS[1], 0, length - n - 1)
  end
end
push(KEYS[1], 5 + n, #ARGV)
redis.call("HSET", KEYS[2], ARGV[2], ARGV[3])
refresh(tonumber(ARGV[1]))
return 1
`;

/** The scripts above as client commands (ioredis EVALSHA, falling back to EVAL). */
interface SessionCommands {
  agentsSessionAdd(
    items: string,
    operations: string,
    ttl: number,
    ...json: string[]
  ): Promise<number>;
  agentsSessionPop(items: string, operations: string, ttl: number): Promise<string | null>;
  agentsSessionClear(items: string, operations: string): Promise<number>;
  agentsSessionTransaction(
    items: string,
    operations: string,
    ttl: number,
    operationId: string,
    transaction: string,
    suffixLength: number,
    ...json: string[]
  ): Promise<number>;
}

const SCRIPTS: Record<keyof SessionCommands, string> = {
  agentsSessionAdd: ADD_ITEMS_LUA,
  agentsSessionPop: POP_ITEM_LUA,
  agentsSessionClear: CLEAR_LUA,
  agentsSessionTransaction: TRANSACTION_LUA,
};

const defined = new WeakSet<Redis | Cluster>();

/** Defines the session's scripts on a client once, however many sessions share it. */
function withSessionCommands(redis: Redis | Cluster): (Redis | Cluster) & SessionCommands {
  if (!defined.has(redis)) {
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      redis.defineCommand(name, { numberOfKeys: 2, lua });
    }
    defined.add(redis);
  }
  return redis as (Redis | Cluster) & SessionCommands;
}

/**
 * An Agents SDK session whose history is a Redis list of JSON items, shared by every process
 * that opens the same key. Each write is one Lua script (atomic); history transactions are
 * idempotent per operationId, whose record lives and expires with the items.
 *
 * Items are stored as canonical JSON (object keys sorted), so that a suffix is compared by
 * string equality in Lua: read back they are deep-equal to what was added, key order aside.
 * Values JSON cannot carry exactly (undefined in arrays, NaN, bigint, binary) are refused.
 */
export class RedisSession implements SessionHistoryTransactionAwareSession {
  private readonly redis: (Redis | Cluster) & SessionCommands;
  private readonly key: string;
  private readonly keys: ReturnType<typeof redisSessionKeys>;
  private readonly ttl: number;

  constructor(options: RedisSessionOptions) {
    this.redis = withSessionCommands(options.redis);
    this.key = options.key;
    this.keys = redisSessionKeys(options.key);
    this.ttl = options.ttlSeconds ?? 0;
    // Checked here: EXPIRE failing inside a script would come after its writes.
    if (!Number.isSafeInteger(this.ttl) || this.ttl < 0) {
      throw new RangeError(`ttlSeconds must be a whole number of seconds, not ${this.ttl}`);
    }
  }

  /** The conversation key: the same key is the same session, in any process. */
  async getSessionId(): Promise<string> {
    return this.key;
  }

  /** The last `limit` items (all without a limit), oldest first: one LRANGE. */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    // Same edge cases as MemorySession: <= 0 is nothing, a fraction rounds up, NaN is all.
    if (limit !== undefined && limit <= 0) return [];
    const count = limit === undefined ? Number.NaN : Math.ceil(limit);
    // Beyond a safe integer Redis would refuse the index: that many is everything anyway.
    const start = Number.isSafeInteger(count) ? -count : 0;
    const raw = await readFromRedis(() => this.redis.lrange(this.keys.items, start, -1));
    return raw.map(decodeItem);
  }

  /** Appends the items in one script: another writer's items never land between them. */
  async addItems(items: AgentInputItem[]): Promise<void> {
    if (items.length === 0) return;
    const encoded = items.map(encodeItem);
    await writeToRedis(() =>
      this.redis.agentsSessionAdd(this.keys.items, this.keys.operations, this.ttl, ...encoded),
    );
  }

  /** Removes and returns the newest item, or undefined when there is none. */
  async popItem(): Promise<AgentInputItem | undefined> {
    const raw = await writeToRedis(() =>
      this.redis.agentsSessionPop(this.keys.items, this.keys.operations, this.ttl),
    );
    return raw === null ? undefined : decodeItem(raw);
  }

  /** Deletes the items and the applied operationIds: a cleared session accepts any id again. */
  async clearSession(): Promise<void> {
    await writeToRedis(() => this.redis.agentsSessionClear(this.keys.items, this.keys.operations));
  }

  /**
   * Applies an append_items or replace_suffix transaction atomically, once per operationId.
   * A retry with the same transaction succeeds without applying it again; throws
   * HistoryOperationConflictError when the id was used by another transaction, and
   * HistorySuffixMismatchError when the history no longer ends with expectedSuffix.
   */
  async applyHistoryTransaction(args: SessionHistoryTransactionArgs): Promise<void> {
    const { operationId, transaction } = validateTransactionArgs(args);
    const [expected, next] =
      transaction.type === "append_items"
        ? [[], transaction.items]
        : [transaction.expectedSuffix, transaction.replacement];
    const outcome = await writeToRedis(() =>
      this.redis.agentsSessionTransaction(
        this.keys.items,
        this.keys.operations,
        this.ttl,
        operationId,
        canonicalJson(transaction),
        expected.length,
        ...expected.map(encodeItem),
        ...next.map(encodeItem),
      ),
    );
    if (outcome === -1) throw new HistoryOperationConflictError(operationId);
    if (outcome === -2) throw new HistorySuffixMismatchError();
  }
}

// ---- Validation and encoding: everything is checked before anything is sent. ----

/** The transaction's own fields and nothing else, items valid model items (as MemorySession). */
function validateTransactionArgs(args: SessionHistoryTransactionArgs): {
  operationId: string;
  transaction: SessionHistoryTransaction;
} {
  const { operationId, transaction } = args ?? {};
  if (typeof operationId !== "string" || !operationId.trim()) {
    throw new InvalidSessionDataError(
      "Session history transaction operationId must be a non-empty string.",
    );
  }
  if (!transaction || typeof transaction !== "object") {
    throw new InvalidSessionDataError("Session history transaction must be an object.");
  }
  for (const items of itemLists(transaction)) {
    if (!items.every((item) => protocol.ModelItem.safeParse(item).success)) {
      throw new InvalidSessionDataError(
        "Session history transaction items contain invalid or unsupported data.",
      );
    }
  }
  return { operationId, transaction };
}

/** The item arrays of a transaction, once its type and exact set of fields are checked. */
function itemLists(transaction: SessionHistoryTransaction): unknown[][] {
  const type = transaction.type;
  const fields = FIELDS[type];
  if (!fields) throw new InvalidSessionDataError("Unsupported session history transaction type.");
  const record = transaction as unknown as Record<string, unknown>;
  const lists = fields.map((field) => record[field]);
  if (Object.keys(record).length !== fields.length + 1 || !lists.every(Array.isArray)) {
    const which = type === "append_items" ? "append" : "suffix";
    throw new InvalidSessionDataError(`Session history ${which} transaction fields are invalid.`);
  }
  return lists as unknown[][];
}

/** Each transaction type's fields besides `type`. */
const FIELDS: Partial<Record<string, string[]>> = {
  append_items: ["items"],
  replace_suffix: ["expectedSuffix", "replacement"],
};

function encodeItem(item: AgentInputItem): string {
  return canonicalJson(item);
}

function decodeItem(raw: string): AgentInputItem {
  return JSON.parse(raw) as AgentInputItem;
}

/**
 * JSON with object keys sorted, so equal values give equal strings (what Lua compares).
 * Properties set to undefined are dropped, as JSON.stringify does; anything JSON would
 * change silently (NaN, undefined in an array, bigint, a class instance) is refused.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    throw new InvalidSessionDataError("Session items cannot hold NaN or Infinity.");
  }
  if (Array.isArray(value)) {
    return value.map((entry) => {
      if (entry === undefined)
        throw new InvalidSessionDataError("Session items cannot hold holes.");
      return canonical(entry);
    });
  }
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return Object.fromEntries(entries.map(([key, entry]) => [key, canonical(entry)]));
  }
  throw new InvalidSessionDataError(`Session items cannot hold a ${typeof value} value.`);
}
