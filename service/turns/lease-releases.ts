import { Cluster } from "ioredis";
import { type RedisClient, waitUntilReady } from "../store/redis-client.ts";

/** How long a subscriber may take to connect before waiters fall back to timers. */
const CONNECT_WAIT_MS = 1000;

/**
 * Wakes the turns waiting for a conversation's lease the moment it is released: the scripts
 * that end a lease (release-turn-1.lua, append-turn-4.lua) PUBLISH on the lease key's name,
 * and this worker's one subscriber connection listens on the leases its turns wait for. A
 * lease that simply expires (its worker crashed) publishes nothing: waiters also wake when
 * it is due to end, so a lost message costs time, never correctness.
 */
export class LeaseReleases {
  private subscriber: RedisClient | undefined;
  private connecting: Promise<RedisClient | undefined> | undefined;
  /** Per lease key: how many turns of this worker watch it, and the wake-ups pending. */
  private readonly watchers = new Map<string, number>();
  private readonly wakeUps = new Map<string, Set<() => void>>();

  constructor(private readonly redis: RedisClient) {}

  /** Starts listening for `leaseKey`'s releases; false if Redis could not be asked. */
  async watch(leaseKey: string): Promise<boolean> {
    const subscriber = await this.connect();
    if (!subscriber) return false;
    const count = this.watchers.get(leaseKey) ?? 0;
    this.watchers.set(leaseKey, count + 1);
    if (count > 0) return true;
    try {
      await subscriber.subscribe(leaseKey);
      return true;
    } catch {
      this.unwatch(leaseKey);
      return false;
    }
  }

  unwatch(leaseKey: string): void {
    const count = (this.watchers.get(leaseKey) ?? 1) - 1;
    if (count > 0) {
      this.watchers.set(leaseKey, count);
      return;
    }
    this.watchers.delete(leaseKey);
    this.subscriber?.unsubscribe(leaseKey).catch(() => undefined);
  }

  /** Resolves at `leaseKey`'s next release, or after `timeoutMs`, whichever comes first. */
  wait(leaseKey: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const pending = this.wakeUps.get(leaseKey) ?? new Set<() => void>();
      const wake = () => {
        clearTimeout(timer);
        pending.delete(wake);
        if (pending.size === 0) this.wakeUps.delete(leaseKey);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, timeoutMs));
      pending.add(wake);
      this.wakeUps.set(leaseKey, pending);
    });
  }

  close(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  /** The subscriber connection, opened on first use (a worker that never waits opens none). */
  private connect(): Promise<RedisClient | undefined> {
    this.connecting ??= (async () => {
      const subscriber: RedisClient =
        this.redis instanceof Cluster ? this.redis.duplicate() : this.redis.duplicate();
      subscriber.on("error", () => undefined);
      subscriber.on("message", (channel: string) => {
        for (const wake of [...(this.wakeUps.get(channel) ?? [])]) wake();
      });
      await waitUntilReady(subscriber, CONNECT_WAIT_MS);
      this.subscriber = subscriber;
      return subscriber;
    })();
    return this.connecting;
  }
}
