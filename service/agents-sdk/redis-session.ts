import {
  type AgentInputItem,
  protocol,
  type SessionHistoryTransaction,
  type SessionHistoryTransactionArgs,
  type SessionHistoryTransactionAwareSession,
  UserError,
} from "@openai/agents-core";
import type { Cluster, Redis } from "ioredis";
import { type StoreCommands, withStoreCommands } from "../store/commands.ts";
import { readFromRedis } from "../store/redis-failures.ts";
import {
  NO_REPLICA_WAIT,
  type ReplicaWait,
  type WriteCommand,
  writeReplicated,
} from "../store/replica-wait.ts";

/** How to reach one session's history: the client, the conversation key, the idle expiry. */
export interface RedisSessionOptions {
  /** A Redis or a Cluster client; the session's scripts are defined on it once. */
  redis: Redis | Cluster;
  /** The conversation key, hash tag included: every key of the session shares its slot. */
  key: string;
  /** Idle expiry refreshed by every write; absent or 0: the keys never expire. */
  ttlSeconds?: number;
  /**
   * `getItems()` without a limit returns at most this many of the newest items. The Runner
   * asks for the whole history on every run; this bounds what each run reads (the agent is
   * given a window anyway). Absent: everything, as MemorySession.
   */
  recentItems?: number;
  /**
   * How many replicas must have each write before it counts as stored (Redis WAIT, sent in
   * the same pipeline): fewer within the timeout and the write throws StoreWriteUncertainError.
   * Default: none (a lone Redis).
   */
  replicaWait?: ReplicaWait;
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

/**
 * An Agents SDK session whose history is a Redis list of JSON items, shared by every process
 * that opens the same key. Each write is one Lua script (atomic,
 * `service/store/commands/agents-session-*.lua`); history transactions are
 * idempotent per operationId, whose record lives and expires with the items.
 *
 * Items are stored as canonical JSON (object keys sorted), so that a suffix is compared by
 * string equality in Lua: read back they are deep-equal to what was added, key order aside.
 * Values JSON cannot carry exactly (undefined in arrays, NaN, bigint, binary) are refused.
 */
export class RedisSession implements SessionHistoryTransactionAwareSession {
  private readonly redis: (Redis | Cluster) & StoreCommands;
  private readonly key: string;
  private readonly keys: ReturnType<typeof redisSessionKeys>;
  private readonly ttl: number;
  private readonly recentItems: number | undefined;
  private readonly replicaWait: ReplicaWait;
  /** The whole history's length when `getItems` last read, in the same step as the items. */
  historyLength: number | undefined;

  constructor(options: RedisSessionOptions) {
    this.redis = withStoreCommands(options.redis);
    this.key = options.key;
    this.keys = redisSessionKeys(options.key);
    this.ttl = options.ttlSeconds ?? 0;
    this.recentItems = options.recentItems;
    this.replicaWait = options.replicaWait ?? NO_REPLICA_WAIT;
    // Checked here: EXPIRE failing inside a script would come after its writes.
    if (!Number.isSafeInteger(this.ttl) || this.ttl < 0) {
      throw new RangeError(`ttlSeconds must be a whole number of seconds, not ${this.ttl}`);
    }
  }

  /** The conversation key: the same key is the same session, in any process. */
  async getSessionId(): Promise<string> {
    return this.key;
  }

  /**
   * The last `limit` items (without a limit: the last `recentItems`, or all), oldest first,
   * read with the whole history's length (`historyLength`) in one step.
   */
  async getItems(limit?: number): Promise<AgentInputItem[]> {
    const asked = limit ?? this.recentItems;
    // Same edge cases as MemorySession: <= 0 is nothing, a fraction rounds up, NaN is all.
    if (asked !== undefined && asked <= 0) return [];
    const count = asked === undefined ? Number.NaN : Math.ceil(asked);
    // Beyond a safe integer Redis would refuse the index: that many is everything anyway.
    if (!Number.isSafeInteger(count)) {
      const raw = await readFromRedis(() => this.redis.lrange(this.keys.items, 0, -1));
      this.historyLength = raw.length;
      return raw.map(decodeItem);
    }
    const [length, ...raw] = await readFromRedis(() =>
      this.redis.loadRecent(this.keys.items, count),
    );
    this.historyLength = Number(length);
    return raw.map(decodeItem);
  }

  /** Appends the items in one script: another writer's items never land between them. */
  async addItems(items: AgentInputItem[]): Promise<void> {
    if (items.length === 0) return;
    const { items: list, operations } = this.keys;
    const encoded = items.map(encodeItem);
    // Not fenced, not streamed: the lease, turns and stream keys are stand-ins the script does not read.
    await this.write((to) =>
      to.agentsSessionAdd(
        list,
        operations,
        list,
        list,
        list,
        this.ttl,
        "",
        "",
        0,
        "",
        "",
        0,
        ...encoded,
      ),
    );
  }

  /** Removes and returns the newest item, or undefined when there is none. */
  async popItem(): Promise<AgentInputItem | undefined> {
    const raw = await this.write(
      (to) => to.agentsSessionPop(this.keys.items, this.keys.operations, this.ttl),
      (popped) => popped !== null,
    );
    return raw === null ? undefined : decodeItem(raw);
  }

  /** Deletes the items and the applied operationIds: a cleared session accepts any id again. */
  async clearSession(): Promise<void> {
    await this.write((to) => to.agentsSessionClear(this.keys.items, this.keys.operations));
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
    const outcome = await this.write(
      (to) =>
        to.agentsSessionTransaction(
          this.keys.items,
          this.keys.operations,
          this.ttl,
          operationId,
          canonicalJson(transaction),
          expected.length,
          ...expected.map(encodeItem),
          ...next.map(encodeItem),
        ),
      // A refused transaction wrote nothing; one applied before (a retry) is waited for again.
      (applied) => applied >= 0,
    );
    if (outcome === -1) throw new HistoryOperationConflictError(operationId);
    if (outcome === -2) throw new HistorySuffixMismatchError();
  }

  /** One write script, and WAIT behind it in the same pipeline when replicas must have it. */
  private write<T>(command: WriteCommand<T>, changed?: (reply: T) => boolean): Promise<T> {
    return writeReplicated(this.redis, this.replicaWait, command, changed);
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

export function encodeItem(item: AgentInputItem): string {
  return canonicalJson(item);
}

export function decodeItem(raw: string): AgentInputItem {
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
