import { randomBytes } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import type { AppConfig } from "../config.ts";
import { ConversationBusyError, StoreUnavailableError, TurnInProgressError } from "../errors.ts";
import { conversationKeys, type StoreCommands, withStoreCommands } from "../store/commands.ts";
import type { ConversationStore } from "../store/conversation-store.ts";
import { decodeMessages } from "../store/redis-store.ts";
import { confirmReplicated, NO_REPLICA_WAIT, type ReplicaWait } from "../store/replica-wait.ts";
import { LeaseReleases } from "./lease-releases.ts";
import { LeaseRenewal } from "./lease-renewal.ts";
import { LeasedConversationStore, type TurnLease } from "./leased-store.ts";

/** The longest a waiting turn sleeps before asking again, even if no release was heard. */
const MAX_WAIT_SLICE_MS = 1000;

/**
 * What a turn arriving while another turn of its conversation runs gets:
 * - `reject`: 409 at once; nothing stored; the client may retry later.
 * - `enqueue`: it waits (up to `waitMs`) and then runs on the updated history;
 *   after that, 409 and nothing stored.
 */
export type TurnStrategy = "reject" | "enqueue";

export interface TurnGateOptions {
  /** Where leases live: the same Redis (or Cluster) as the conversations. */
  redis: Redis | Cluster;
  /** The store the turns read and write; the gate fences its appends. */
  store: ConversationStore;
  strategy: TurnStrategy;
  /**
   * How long a turn's lease lasts unless renewed: while the turn runs it is renewed every
   * third of this, so it is also how long a crashed worker keeps its conversation.
   */
  leaseMs: number;
  /** The longest a turn may keep renewing its lease (a runaway turn is then fenced). */
  maxMs: number;
  /** `enqueue`: how long a turn waits for its conversation before giving up. */
  waitMs: number;
  /** Idle expiry of the conversation's keys, in seconds. */
  ttlSeconds: number;
  /** Recent messages fetched with the lease: the agent's context window. */
  contextWindow: number;
  /** Replicas a turn answered from the store must be on before it is acknowledged again. */
  replicaWait?: ReplicaWait;
}

/** The gate's settings from the app's configuration (TURN_*, CONTEXT_WINDOW_MESSAGES, TTL). */
export function turnGateSettings(config: AppConfig) {
  if (config.TURN_STRATEGY === "off") return undefined;
  return {
    strategy: config.TURN_STRATEGY,
    leaseMs: config.TURN_LEASE_MS,
    maxMs: config.TURN_MAX_MS,
    waitMs: config.TURN_WAIT_MS,
    ttlSeconds: config.CONVERSATION_TTL_SECONDS,
    contextWindow: config.CONTEXT_WINDOW_MESSAGES,
  } satisfies Partial<TurnGateOptions>;
}

/**
 * A turn ran (`value` is what it returned), or its turnId had already completed (`position`);
 * `waitedMs`: how long it waited for the conversation's lease.
 */
export type GateOutcome<T> = ({ ran: true; value: T } | { ran: false; position: number }) & {
  waitedMs: number;
};

/**
 * One turn of a conversation at a time, across every worker and host, plus idempotency by
 * turnId. A turn takes the conversation's lease (with a fencing token) in Redis before it
 * runs, and gets the store as its lease sees it: its append is refused if the lease expired
 * meanwhile or the history changed (append-turn-4.lua). A turnId that already completed is
 * answered from the stored messages without running the agent again. An in-process mutex
 * would only serialize one worker.
 */
export class TurnGate {
  private readonly redis: (Redis | Cluster) & StoreCommands;
  private readonly releases: LeaseReleases;

  constructor(private readonly options: TurnGateOptions) {
    this.redis = withStoreCommands(options.redis);
    this.releases = new LeaseReleases(options.redis);
  }

  async run<T>(
    key: string,
    turnId: string,
    body: (store: LeasedConversationStore) => Promise<T>,
  ): Promise<GateOutcome<T>> {
    const started = Date.now();
    const leaseKey = conversationKeys(key).lease;
    let watching = false;
    try {
      for (;;) {
        const attempt = await this.acquire(key, turnId);
        const waitedMs = Date.now() - started;
        if (attempt.state === "done") {
          // A retry of an unconfirmed write finds it stored: acknowledge it only once replicated.
          const { ttlSeconds, replicaWait = NO_REPLICA_WAIT } = this.options;
          await confirmReplicated(this.redis, conversationKeys(key).turns, ttlSeconds, replicaWait);
          return { ran: false, position: attempt.position, waitedMs };
        }
        if (attempt.state === "acquired")
          return { ran: true, value: await this.hold(attempt.lease, body), waitedMs };
        const left = started + this.options.waitMs - Date.now();
        if (this.options.strategy === "reject" || left <= 0) throw this.refusal(attempt.state);
        // Listen first, then ask again: a release between the two cannot go unheard.
        if (!watching) {
          watching = await this.releases.watch(leaseKey);
          if (watching) continue;
        }
        const slice = Math.min(left, attempt.endsInMs + 5, MAX_WAIT_SLICE_MS);
        await this.releases.wait(leaseKey, watching ? slice : Math.min(slice, 50));
      }
    } finally {
      if (watching) this.releases.unwatch(leaseKey);
    }
  }

  /** Stops listening for releases (the worker is shutting down). */
  close(): void {
    this.releases.close();
  }

  /**
   * Runs the turn under its lease, renewed while it runs; a turn that did not store itself
   * gives the lease back.
   */
  private async hold<T>(lease: TurnLease, body: (store: LeasedConversationStore) => Promise<T>) {
    const leased = new LeasedConversationStore(this.options.store, lease);
    const leaseKey = conversationKeys(lease.key).lease;
    const holder = `${lease.token}:${lease.turnId}`;
    const { leaseMs, maxMs } = this.options;
    const renewal = new LeaseRenewal({ redis: this.redis, leaseKey, holder, leaseMs, maxMs });
    try {
      return await body(leased);
    } finally {
      renewal.stop();
      if (!leased.stored) await this.redis.releaseTurn(leaseKey, holder).catch(() => 0);
    }
  }

  private refusal(state: "running" | "busy"): Error {
    if (state === "running") {
      return new TurnInProgressError(
        "this turn is still running; retry later with the same turnId",
      );
    }
    return new ConversationBusyError(
      this.options.strategy === "reject"
        ? "another turn of this conversation is running; nothing was stored"
        : `another turn of this conversation kept running for ${this.options.waitMs} ms; nothing was stored`,
    );
  }

  private async acquire(key: string, turnId: string): Promise<Attempt> {
    const keys = conversationKeys(key);
    const { leaseMs, ttlSeconds, contextWindow } = this.options;
    let reply: string[];
    try {
      reply = await this.redis.acquireTurn(
        keys.lease,
        keys.turns,
        keys.fence,
        keys.messages,
        turnId,
        leaseMs,
        ttlSeconds,
        contextWindow,
        randomBytes(6).toString("hex"),
      );
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
    const [state, detail, length, ...raw] = reply;
    if (state === "done") return { state, position: Number(detail) };
    if (state === "acquired" && detail) {
      const lease = { key, turnId, token: detail, length: Number(length), window: contextWindow };
      return { state, lease: { ...lease, recent: decodeMessages(raw) } };
    }
    // running: { "running", ms }; busy: { "busy", turnId, ms }
    const endsInMs = Number(state === "running" ? detail : length);
    return {
      state: state === "running" ? "running" : "busy",
      endsInMs: endsInMs > 0 ? endsInMs : leaseMs,
    };
  }
}

/** What acquire-turn-4.lua answered, decoded. */
type Attempt =
  | { state: "done"; position: number }
  | { state: "acquired"; lease: TurnLease }
  /** `endsInMs`: when the holder's lease ends unless it is renewed. */
  | { state: "running" | "busy"; endsInMs: number };
