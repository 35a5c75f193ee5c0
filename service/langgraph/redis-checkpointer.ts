import type { RunnableConfig } from "@langchain/core/runnables";
import {
  BaseCheckpointSaver,
  type ChannelVersions,
  type Checkpoint,
  type CheckpointListOptions,
  type CheckpointMetadata,
  type CheckpointPendingWrite,
  type CheckpointTuple,
  compareWritesSortKeys,
  copyCheckpoint,
  maxChannelVersion,
  type PendingWrite,
  type SerializerProtocol,
  TASKS,
  WRITES_IDX_MAP,
  writesSortKey,
} from "@langchain/langgraph-checkpoint";
import type { Cluster, Redis } from "ioredis";
import { TurnFencedError } from "../errors.ts";
import { type CheckpointKeys, type StoreCommands, withStoreCommands } from "../store/commands.ts";
import { readFromRedis } from "../store/redis-failures.ts";
import {
  NO_REPLICA_WAIT,
  type ReplicaWait,
  type WriteCommand,
  writeReplicated,
} from "../store/replica-wait.ts";
import type { TurnRecord } from "../turns/leased-store.ts";

/** The lease a turn holds on its conversation: writes go through only while it is `holder`'s. */
export interface CheckpointFence {
  /** The lease key; in a Cluster it must share the thread's hash tag (same slot). */
  leaseKey: string;
  /** The value the lease key holds while this turn owns it ("<token>:<turnId>"). */
  holder: string;
}

/** How a RedisCheckpointSaver stores its threads. */
export interface RedisCheckpointSaverOptions {
  /** A plain Redis (>= 7) or a Redis Cluster client. */
  redis: Redis | Cluster;
  /** Prepended to every key, e.g. "langgraph:"; must not contain braces (it would take the hash tag). */
  keyPrefix: string;
  /** Idle expiry of a thread's keys, refreshed by every write; none when unset or 0. */
  ttlSeconds?: number;
  /** Called on each write: the turn's lease when one is held, and every write is fenced by it. */
  fence?: () => CheckpointFence | undefined;
  /**
   * Refuse a put whose parent (`config.configurable.checkpoint_id`) is not the newest
   * checkpoint of its thread and namespace, or whose id does not sort after it: concurrent
   * writers cannot fork the chain. Off by default, because LangGraph's contract (and its
   * validation suite) allows puts with any parent: time travel, "update state" from an older
   * checkpoint, several roots in one thread. Turn it on where one chain per thread is the rule.
   * A put sent again after a lost reply (same id, already the newest) is not refused.
   */
  forkGuard?: boolean;
  /**
   * Keep only this many of a namespace's newest checkpoints: each put removes older ones, with
   * the channel values only they held. Every checkpoint holds the thread's whole state (with
   * MessagesAnnotation, every message so far), so keeping them all makes a thread's memory
   * grow with the square of its turns. Unset or 0: keep all (time travel to any of them).
   */
  keepCheckpoints?: number;
  /**
   * How many replicas must have each write before it counts as stored (Redis WAIT, sent in
   * the same pipeline): fewer within the timeout and the write throws StoreWriteUncertainError.
   * Default: none (a lone Redis).
   */
  replicaWait?: ReplicaWait;
  /** How checkpoints and writes are serialized; LangGraph's JsonPlusSerializer by default. */
  serde?: SerializerProtocol;
}

/** What `put` is given: a checkpoint, its parent (in `config`), its metadata and new versions. */
export interface CheckpointPut {
  config: RunnableConfig;
  checkpoint: Checkpoint;
  metadata: CheckpointMetadata;
  newVersions: ChannelVersions;
}

/** The turn a checkpoint completes: its record (which fences the write) and where it starts. */
export interface CompletedTurn {
  record: TurnRecord;
  /** The position of the turn's user message in the conversation's messages. */
  position: number;
}

/** Why the fork guard refused a put. */
export type CheckpointConflictReason = "parent_not_latest" | "not_newer";

/**
 * The fork guard refused a put, nothing was stored: another writer extended the thread since
 * this one read it (`parent_not_latest`), or the new id would not be the newest (`not_newer`).
 * Read the thread again and retry from its newest checkpoint. A fenced write refused because
 * the history changed, so the HTTP layer answers it as any other (409 turn_fenced).
 */
export class CheckpointConflictError extends TurnFencedError {
  override readonly name = "CheckpointConflictError";

  constructor(
    readonly conflict: CheckpointConflictReason,
    readonly expectedParent: string | undefined,
    readonly newest: string | undefined,
  ) {
    super("history_changed");
    this.message =
      conflict === "parent_not_latest"
        ? `nothing was stored: the checkpoint's parent ${expectedParent ?? "(none)"} is not the newest (${newest ?? "none"})`
        : `nothing was stored: the checkpoint id does not sort after the newest (${newest})`;
  }
}

/** A serialized value: serde type and base64 bytes (binary-safe in JSON and Lua). */
type Serialized = [type: string, base64: string];

/** One checkpoint as stored; `v`, `parent` and `blobs` are read by checkpoint-get-4.lua. */
interface StoredCheckpoint {
  v: number;
  parent: string;
  /** Field of each channel value the checkpoint holds (JSON [channel, version]). */
  blobs: string[];
  /** The checkpoint without its channel values (those are stored once per version). */
  checkpoint: Serialized;
  metadata: Serialized;
}

/** One pending write as stored. */
type StoredWrite = [
  taskId: string,
  channel: string,
  value: Serialized,
  taskPath: string,
  idx: number,
];

/** The keys of one thread's namespace; every key of a thread shares its hash tag. */
interface NamespaceKeys {
  namespaces: string;
  index: string;
  checkpoints: string;
  blobs: string;
  writes: string;
}

const NAMESPACES_SUFFIX = "namespaces:";
const REFUSED_CONFLICT: Record<number, CheckpointConflictReason> = {
  [-2]: "parent_not_latest",
  [-3]: "not_newer",
};

/**
 * A LangGraph checkpointer over plain Redis (>= 7) or a Redis Cluster. Each `put` and
 * `putWrites` is one Lua script (checkpoint-put-8.lua, checkpoint-put-writes-6.lua): atomic,
 * fenced by the turn's lease when `fence` returns one, and for `put` guarded against forks
 * when `forkGuard` is on. Every key of a thread carries one hash tag: the thread id's own
 * when it has one (a conversation key `prefix{tenant:user:conversation}`, so its lease is in
 * the same slot), else `{<thread_id>}`. Channel values are stored once per (channel, version)
 * and checkpoints list the versions they hold, as LangGraph's Postgres saver does. A `list`
 * without a thread_id (an admin view) SCANs every master for the prefix's threads.
 */
export class RedisCheckpointSaver extends BaseCheckpointSaver {
  private readonly redis: (Redis | Cluster) & StoreCommands;
  private readonly keyPrefix: string;
  private readonly ttlSeconds: number;
  private readonly fence: (() => CheckpointFence | undefined) | undefined;
  private readonly forkGuard: boolean;
  private readonly keepCheckpoints: number;
  private readonly replicaWait: ReplicaWait;

  constructor(options: RedisCheckpointSaverOptions) {
    super(options.serde);
    if (/[{}]/.test(options.keyPrefix)) {
      throw new RangeError("keyPrefix must not contain braces: they would take the hash tag");
    }
    this.redis = withStoreCommands(options.redis);
    this.keyPrefix = options.keyPrefix;
    this.ttlSeconds = options.ttlSeconds ?? 0;
    this.fence = options.fence;
    this.forkGuard = options.forkGuard ?? false;
    this.keepCheckpoints = options.keepCheckpoints ?? 0;
    this.replicaWait = options.replicaWait ?? NO_REPLICA_WAIT;
    if (!Number.isSafeInteger(this.keepCheckpoints) || this.keepCheckpoints < 0) {
      throw new RangeError(`keepCheckpoints must be a whole number, not ${this.keepCheckpoints}`);
    }
  }

  /** The checkpoint `config` names, or the newest of its thread and namespace. */
  async getTuple(config: RunnableConfig): Promise<CheckpointTuple | undefined> {
    const threadId = config.configurable?.thread_id;
    if (threadId === undefined || threadId === null || threadId === "") return undefined;
    const ns = String(config.configurable?.checkpoint_ns ?? "");
    const id = config.configurable?.checkpoint_id;
    return this.read(String(threadId), ns, id ? String(id) : "");
  }

  /** Checkpoints newest first, by thread and namespace, as MemorySaver lists them. */
  async *list(
    config: RunnableConfig,
    options: CheckpointListOptions = {},
  ): AsyncGenerator<CheckpointTuple> {
    const { before, filter } = options;
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    if (remaining <= 0) return;
    const threadId = config.configurable?.thread_id;
    const threads = threadId ? [String(threadId)] : await this.threadIds();
    const beforeId = before?.configurable?.checkpoint_id as string | undefined;
    for (const thread of threads) {
      for (const ns of await this.namespacesOf(thread, config.configurable?.checkpoint_ns)) {
        const ids = await this.idsOf(thread, ns, config.configurable?.checkpoint_id, beforeId);
        for (const id of ids) {
          const tuple = await this.read(thread, ns, id);
          if (!tuple || !matches(tuple.metadata, filter)) continue;
          yield tuple;
          remaining -= 1;
          if (remaining <= 0) return;
        }
      }
    }
  }

  /** Stores a checkpoint in one script; refused writes throw TurnFencedError / CheckpointConflictError. */
  async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    return this.storeCheckpoint({ config, checkpoint, metadata, newVersions });
  }

  /**
   * `put`, and with `completes` (a turn's one checkpoint, see TurnCheckpointer) the turn's
   * record in the same script: fenced by its lease, the turn recorded, the lease ended.
   */
  protected async storeCheckpoint(
    { config, checkpoint, metadata, newVersions }: CheckpointPut,
    completes?: CompletedTurn,
  ): Promise<RunnableConfig> {
    const threadId = requireThreadId(config, "put checkpoint");
    const ns = String(config.configurable?.checkpoint_ns ?? "");
    const parent = config.configurable?.checkpoint_id as string | undefined;
    const { record, blobPairs } = await this.encodeCheckpoint(checkpoint, metadata, newVersions);
    record.parent = parent ?? "";
    const keys = this.keys(threadId, ns);
    const fence = this.checkedFence(threadId, completes?.record ?? this.fence?.());
    const [code, newest] = await this.write(
      (to) =>
        to.checkpointPut(
          ...scriptKeys(keys, fence),
          completes?.record.turnsKey ?? keys.namespaces,
          completes?.record.done?.key ?? keys.namespaces,
          this.ttlSeconds,
          fence?.holder ?? "",
          this.forkGuard ? "1" : "0",
          parent ?? "",
          checkpoint.id,
          encodeURIComponent(ns),
          JSON.stringify(record),
          completes?.record.turnId ?? "",
          completes?.position ?? 0,
          completes?.record.done?.id ?? "",
          completes?.record.done?.data ?? "",
          completes?.record.done?.ttlSeconds ?? 0,
          this.keepCheckpoints,
          ...blobPairs,
        ),
      // Only a stored checkpoint (1) is waited for: a refused put wrote nothing.
      ([stored]) => stored === 1,
    );
    if (code === -1) throw new TurnFencedError("lease_lost");
    if (code === -4) throw new TurnFencedError("already_stored");
    const conflict = REFUSED_CONFLICT[code];
    // The newest is this very checkpoint: a retry of a put whose reply was lost, not a fork.
    if (conflict && newest !== checkpoint.id) {
      throw new CheckpointConflictError(conflict, parent, newest || undefined);
    }
    return {
      configurable: { thread_id: threadId, checkpoint_ns: ns, checkpoint_id: checkpoint.id },
    };
  }

  /** Stores a task's writes against a checkpoint in one script, idempotent per (task, idx). */
  async putWrites(
    config: RunnableConfig,
    writes: PendingWrite[],
    taskId: string,
    taskPath?: string,
  ): Promise<void> {
    const threadId = requireThreadId(config, "put writes");
    const checkpointId = config.configurable?.checkpoint_id;
    if (!checkpointId) {
      throw new Error('Failed to put writes: config.configurable has no "checkpoint_id"');
    }
    const ns = String(config.configurable?.checkpoint_ns ?? "");
    const triples = await this.encodeWrites(writes, taskId, taskPath ?? "");
    if (triples.length === 0) return;
    const keys = this.keys(threadId, ns);
    const fence = this.checkedFence(threadId, this.fence?.());
    const stored = await this.write(
      (to) =>
        to.checkpointPutWrites(
          ...scriptKeys(keys, fence),
          this.ttlSeconds,
          fence?.holder ?? "",
          String(checkpointId),
          encodeURIComponent(ns),
          ...triples,
        ),
      (reply) => reply !== -1,
    );
    if (stored === -1) throw new TurnFencedError("lease_lost");
  }

  /** Removes every key of the thread, every namespace, in one script. */
  async deleteThread(threadId: string): Promise<void> {
    const base = this.threadBase(String(threadId));
    await this.write((to) => to.checkpointDeleteThread(`${base}${NAMESPACES_SUFFIX}`, base));
  }

  /** One write script, and WAIT behind it in the same pipeline when replicas must have it. */
  private write<T>(command: WriteCommand<T>, changed?: (reply: T) => boolean): Promise<T> {
    return writeReplicated(this.redis, this.replicaWait, command, changed);
  }

  /** Every key of a thread starts with this: the prefix, the thread's hash tag, a marker. */
  private threadBase(threadId: string): string {
    // The marker keeps a thread "{x}" (used as is) apart from a thread "x" (wrapped).
    return hasHashTag(threadId)
      ? `${this.keyPrefix}${threadId}:t:`
      : `${this.keyPrefix}{${threadId}}:w:`;
  }

  private keys(threadId: string, ns: string): NamespaceKeys {
    const base = this.threadBase(threadId);
    // Percent-encoded: a namespace never holds ":" or braces, so the key parses from the right.
    const encoded = encodeURIComponent(ns);
    return {
      namespaces: `${base}${NAMESPACES_SUFFIX}`,
      index: `${base}index:${encoded}`,
      checkpoints: `${base}checkpoints:${encoded}`,
      blobs: `${base}blobs:${encoded}`,
      writes: `${base}writes:${encoded}`,
    };
  }

  /** The fence for this write, checked to share the thread's slot on a Cluster. */
  private checkedFence(
    threadId: string,
    fence: CheckpointFence | undefined,
  ): CheckpointFence | undefined {
    if (fence && this.redis.isCluster) {
      const threadTag = hashTag(this.threadBase(threadId));
      if (hashTag(fence.leaseKey) !== threadTag) {
        throw new RangeError(
          `the lease key ${fence.leaseKey} does not share the thread's hash tag {${threadTag}}`,
        );
      }
    }
    return fence;
  }

  private async encodeCheckpoint(
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<{ record: StoredCheckpoint; blobPairs: string[] }> {
    const { channel_values: values, ...rest } = copyCheckpoint(checkpoint);
    const blobPairs: string[] = [];
    // Only the channels this checkpoint changed: the others are stored with an ancestor.
    for (const [channel, version] of Object.entries(newVersions)) {
      if (!(channel in values)) continue;
      blobPairs.push(blobField(channel, version), JSON.stringify(await this.dump(values[channel])));
    }
    const record: StoredCheckpoint = {
      v: checkpoint.v,
      parent: "",
      blobs: Object.entries(checkpoint.channel_versions).map(([c, v]) => blobField(c, v)),
      checkpoint: await this.dump({ ...rest, channel_values: {} }),
      metadata: await this.dump(metadata),
    };
    return { record, blobPairs };
  }

  /** `[field, replace, record]` per write, for checkpoint-put-writes-6.lua. */
  private async encodeWrites(
    writes: PendingWrite[],
    taskId: string,
    taskPath: string,
  ): Promise<string[]> {
    const triples: string[] = [];
    for (const [position, [channel, value]] of writes.entries()) {
      // As MemorySaver: special channels (errors, interrupts...) have fixed negative slots.
      const idx = WRITES_IDX_MAP[channel] || position;
      const stored: StoredWrite = [taskId, channel, await this.dump(value), taskPath, idx];
      triples.push(`${taskId},${idx}`, idx < 0 ? "1" : "0", JSON.stringify(stored));
    }
    return triples;
  }

  /** One checkpoint and all it needs, from one script call. */
  private async read(
    threadId: string,
    ns: string,
    id: string,
  ): Promise<CheckpointTuple | undefined> {
    const keys = this.keys(threadId, ns);
    const reply = await readFromRedis(() =>
      this.redis.checkpointGet(keys.index, keys.checkpoints, keys.blobs, keys.writes, id),
    );
    if (!reply) return undefined;
    const [foundId = "", recordJson = "", writesJson = "", parentWritesJson = "", ...blobs] = reply;
    const record = JSON.parse(recordJson) as StoredCheckpoint;
    const checkpoint = (await this.load(record.checkpoint)) as Checkpoint;
    checkpoint.channel_values = await this.channelValues(record.blobs, blobs);
    const pendingWrites = await this.pendingWrites(writesJson);
    if (record.v < 4 && record.parent) {
      await this.migratePendingSends(checkpoint, parentWritesJson);
    }
    const configurable = { thread_id: threadId, checkpoint_ns: ns };
    const tuple: CheckpointTuple = {
      config: { configurable: { ...configurable, checkpoint_id: foundId } },
      checkpoint,
      metadata: (await this.load(record.metadata)) as CheckpointMetadata,
      pendingWrites,
    };
    if (record.parent) {
      tuple.parentConfig = { configurable: { ...configurable, checkpoint_id: record.parent } };
    }
    return tuple;
  }

  private async channelValues(fields: string[], blobs: string[]): Promise<Record<string, unknown>> {
    const values: Record<string, unknown> = {};
    for (const [i, field] of fields.entries()) {
      const blob = blobs[i];
      // Not stored: the channel was empty at that version.
      if (!blob) continue;
      const [channel] = JSON.parse(field) as [string];
      values[channel] = await this.load(JSON.parse(blob) as Serialized);
    }
    return values;
  }

  /** Stored writes in `writesSortKey` order, the order live execution applies them in. */
  private sortedWrites(writesJson: string): StoredWrite[] {
    if (!writesJson) return [];
    const byField = JSON.parse(writesJson) as Record<string, string>;
    const writes = Object.values(byField).map((raw) => JSON.parse(raw) as StoredWrite);
    const key = ([taskId, , , taskPath, idx]: StoredWrite) => writesSortKey(taskPath, taskId, idx);
    return writes.sort((a, b) => compareWritesSortKeys(key(a), key(b)));
  }

  private async pendingWrites(writesJson: string): Promise<CheckpointPendingWrite[]> {
    const writes = this.sortedWrites(writesJson);
    return Promise.all(
      writes.map(
        async ([taskId, channel, value]): Promise<CheckpointPendingWrite> => [
          taskId,
          channel,
          await this.load(value),
        ],
      ),
    );
  }

  /** Checkpoints before format 4 kept their pending sends as the parent's TASKS writes. */
  private async migratePendingSends(checkpoint: Checkpoint, parentWritesJson: string) {
    const sends = this.sortedWrites(parentWritesJson).filter(([, c]) => c === TASKS);
    const values = checkpoint.channel_values as Record<string, unknown>;
    values[TASKS] = await Promise.all(sends.map(([, , value]) => this.load(value)));
    const versions = checkpoint.channel_versions;
    versions[TASKS] =
      Object.keys(versions).length > 0
        ? maxChannelVersion(...Object.values(versions))
        : this.getNextVersion(undefined);
  }

  /** Namespaces of a thread: the one asked for, or every one it has. */
  private async namespacesOf(threadId: string, ns: unknown): Promise<string[]> {
    if (ns !== undefined && ns !== null) return [String(ns)];
    const members = await readFromRedis(() =>
      this.redis.smembers(`${this.threadBase(threadId)}${NAMESPACES_SUFFIX}`),
    );
    return members.map(decodeURIComponent).sort();
  }

  /** Checkpoint ids of a namespace, newest first, strictly before `beforeId` if given. */
  private async idsOf(
    threadId: string,
    ns: string,
    onlyId: unknown,
    beforeId: string | undefined,
  ): Promise<string[]> {
    if (onlyId) {
      const id = String(onlyId);
      return beforeId && id >= beforeId ? [] : [id];
    }
    const index = this.keys(threadId, ns).index;
    const max = beforeId ? `(${beforeId}` : "+";
    return readFromRedis(() => this.redis.zrevrangebylex(index, max, "-"));
  }

  /** Every thread under this prefix (list without a thread_id): SCAN on every master. */
  private async threadIds(): Promise<string[]> {
    const pattern = `${escapeGlob(this.keyPrefix)}*${NAMESPACES_SUFFIX}`;
    const nodes = this.redis.isCluster ? (this.redis as Cluster).nodes("master") : [this.redis];
    const keys = new Set<string>();
    for (const node of nodes) {
      const stream = (node as Redis).scanStream({ match: pattern, count: 500 });
      for await (const batch of stream) for (const key of batch as string[]) keys.add(key);
    }
    return [...keys].flatMap((key) => {
      const id = this.threadIdOf(key);
      return id === undefined ? [] : [id];
    });
  }

  /** The thread id of a namespaces key (the inverse of threadBase). */
  private threadIdOf(key: string): string | undefined {
    const middle = key.slice(this.keyPrefix.length, -NAMESPACES_SUFFIX.length);
    const base = middle.slice(0, -3);
    if (middle.endsWith(":t:")) return base;
    if (middle.endsWith(":w:")) return base.slice(1, -1);
    return undefined;
  }

  private async dump(value: unknown): Promise<Serialized> {
    const [type, bytes] = await this.serde.dumpsTyped(value);
    return [type, Buffer.from(bytes).toString("base64")];
  }

  private load([type, base64]: Serialized): Promise<unknown> {
    return this.serde.loadsTyped(type, Buffer.from(base64, "base64"));
  }
}

/**
 * The hash tag Redis Cluster hashes a key by: between the first "{" and the first "}" after
 * it, if not empty; else undefined (the whole key is hashed).
 */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf("{");
  if (open < 0) return undefined;
  const close = key.indexOf("}", open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

function hasHashTag(key: string): boolean {
  return hashTag(key) !== undefined;
}

function requireThreadId(config: RunnableConfig, what: string): string {
  const threadId = config.configurable?.thread_id;
  if (threadId === undefined || threadId === null || threadId === "") {
    throw new Error(`Failed to ${what}: config.configurable has no "thread_id"`);
  }
  return String(threadId);
}

function blobField(channel: string, version: unknown): string {
  return JSON.stringify([channel, version]);
}

/** MemorySaver's filter: every given metadata key equal (===) to its value. */
function matches(metadata: CheckpointMetadata | undefined, filter?: Record<string, unknown>) {
  if (!filter) return true;
  const fields = (metadata ?? {}) as Record<string, unknown>;
  return Object.entries(filter).every(([key, value]) => fields[key] === value);
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** The write scripts' keys: the namespace's, then the lease (the namespaces key when unfenced). */
function scriptKeys(
  keys: { namespaces: string; index: string; checkpoints: string; blobs: string; writes: string },
  fence: { leaseKey: string } | undefined,
): CheckpointKeys {
  const { namespaces, index, checkpoints, blobs, writes } = keys;
  return [namespaces, index, checkpoints, blobs, writes, fence?.leaseKey ?? namespaces];
}
