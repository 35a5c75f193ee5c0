import { setTimeout as sleep } from "node:timers/promises";
import type { Cluster, Redis } from "ioredis";
import { HttpError, StoreUnavailableError } from "../errors.ts";
import { conversationKeys, type StoreCommands, withStoreCommands } from "../store/commands.ts";
import { type TurnFence, turnFence } from "./turn-context.ts";

/**
 * What a turn arriving while another turn of its conversation runs gets:
 * - `reject`: 409 at once; nothing stored; the client may retry later.
 * - `enqueue`: it waits (up to TURN_WAIT_MS) and then runs on the updated history;
 *   after that, 409 and nothing stored.
 */
export type TurnStrategy = "reject" | "enqueue";

export interface TurnGateOptions {
  strategy: TurnStrategy;
  /** How long a turn may hold its conversation before another may take over. */
  leaseMs: number;
  /** `enqueue`: how long a turn waits for its conversation before giving up. */
  waitMs: number;
  /** Idle expiry of the conversation's keys, in seconds. */
  ttlSeconds: number;
  /** Recent messages fetched with the lease: the agent's context window. */
  contextWindow: number;
}

export type GateOutcome<T> = { ran: true; value: T } | { ran: false; position: number };

/**
 * One turn of a conversation at a time, across every worker and host, plus idempotency by
 * turnId. A turn takes the conversation's lease (with a fencing token) in Redis before it
 * runs; its append is refused if the lease expired meanwhile or the history changed (see
 * append-turn.lua). A turnId that already completed is answered from the stored messages
 * without running the agent again. An in-process mutex would only serialize one worker.
 */
export class TurnGate {
  private readonly redis: (Redis | Cluster) & StoreCommands;

  constructor(
    redis: Redis | Cluster,
    private readonly options: TurnGateOptions,
  ) {
    this.redis = withStoreCommands(redis);
  }

  async run<T>(key: string, turnId: string, body: () => Promise<T>): Promise<GateOutcome<T>> {
    const keys = conversationKeys(key);
    const deadline = Date.now() + this.options.waitMs;
    let pause = 5;
    for (;;) {
      const [state, detail, length, ...raw] = await this.acquire(keys, turnId);
      if (state === "done") return { ran: false, position: Number(detail) };
      if (state === "acquired" && detail) {
        const token = detail;
        const prefetched = { recent: this.options.contextWindow, length: Number(length), raw };
        const fence: TurnFence = { key, turnId, token, prefetched };
        try {
          return { ran: true, value: await turnFence.run(fence, body) };
        } finally {
          // The fenced append releases the lease itself; only a turn that failed still holds it.
          if (!fence.released) {
            await this.redis.releaseTurn(keys.lease, `${token}:${turnId}`).catch(() => 0);
          }
        }
      }
      if (this.options.strategy === "reject" || Date.now() >= deadline) {
        throw state === "running"
          ? new HttpError(
              409,
              "turn_in_progress",
              "this turn is still running; retry later with the same turnId",
            )
          : new HttpError(
              409,
              "conversation_busy",
              this.options.strategy === "reject"
                ? "another turn of this conversation is running; nothing was stored"
                : `another turn of this conversation kept running for ${this.options.waitMs} ms; nothing was stored`,
            );
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
    }
  }

  private async acquire(keys: ReturnType<typeof conversationKeys>, turnId: string) {
    try {
      return await this.redis.acquireTurn(
        keys.lease,
        keys.turns,
        keys.fence,
        keys.messages,
        turnId,
        this.options.leaseMs,
        this.options.ttlSeconds,
        this.options.contextWindow,
      );
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}
