import type { StoreCommands } from "../store/commands.ts";

export interface LeaseRenewalOptions {
  redis: StoreCommands;
  /** The lease key and its holder, "<token>:<turnId>". */
  leaseKey: string;
  holder: string;
  leaseMs: number;
  /** Stop renewing after this long: a runaway turn then loses its lease and is fenced. */
  maxMs: number;
}

/**
 * Keeps a running turn's lease alive: renews it every third of its duration with a fenced
 * script (renew-turn-1.lua), so a turn may run far longer than one lease while a crashed
 * worker's lease still lapses within one. Once a renewal finds the lease gone (expired while
 * the worker stalled, or taken over) it stops for good: the turn's append is then fenced.
 * A renewal Redis does not answer is simply tried again at the next tick.
 */
export class LeaseRenewal {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly startedAt = Date.now();

  constructor(private readonly options: LeaseRenewalOptions) {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = Math.max(10, Math.floor(this.options.leaseMs / 3));
    // Never keeps a process alive on its own: a worker that is shutting down lets it lapse.
    this.timer = setTimeout(() => void this.renew(), every).unref();
  }

  private async renew(): Promise<void> {
    const { redis, leaseKey, holder, leaseMs, maxMs } = this.options;
    if (this.stopped || Date.now() - this.startedAt >= maxMs) return;
    const renewed = await redis.renewTurn(leaseKey, holder, leaseMs).catch(() => undefined);
    if (renewed === 0) this.stopped = true;
    this.schedule();
  }
}
