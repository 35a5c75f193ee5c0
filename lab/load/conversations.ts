/** One conversation of a load run, as the scheduler tracks it. */
export interface Conversation {
  id: string;
  number: number;
  nextIndex: number;
  /** Reads still to send on the pinned connection (sticky mode only). */
  readsPending: number;
  /** Turns sent and not settled yet (some attempt still out, or a retry still to send). */
  turnsInFlight: number;
  /** A sticky read on the wire. */
  reading: boolean;
  /** Sticky reads sent so far (a refused one is sent again with resendRefused). */
  readsSent: number;
  /** In the shared queue of conversations that may send their next turn. */
  queued: boolean;
  /** Stops after a turn with an unknown outcome: later turns could not be ordered after it. */
  abandoned: boolean;
  /** Sticky mode: the one connection this conversation uses. */
  slot?: number;
  /** The connection and worker of the previous turn. */
  lastSlot?: number;
  lastWorker?: string;
  /** Times a free connection passed this conversation over, since its last turn. */
  skips: number;
}

/**
 * The conversations that may send their next turn (non-sticky mode), oldest first, and
 * which one a free connection takes: one whose previous turn was served by a *different*
 * worker than the one this connection talks to (or, while a worker is not known, or when no
 * live connection can reach another worker, came over a different connection). A
 * conversation passed over `starvationLimit` times goes to any connection, so a run always
 * finishes, but only when no live connection can reach another worker: while one can, the
 * conversation waits for it, so a slow machine never breaks the hop.
 */
export class HopQueue {
  private readonly ready: Conversation[] = [];
  /** The worker each connection last talked to, and every connection seen. */
  private readonly slotWorkers = new Map<number, string | undefined>();

  constructor(
    /** Whether a conversation may send a turn now (else it leaves the queue). */
    private readonly canSend: (conversation: Conversation) => boolean,
    private readonly starvationLimit: number,
  ) {}

  add(conversation: Conversation, where: "front" | "back" = "back"): void {
    if (conversation.queued) return;
    conversation.queued = true;
    if (where === "front") this.ready.unshift(conversation);
    else this.ready.push(conversation);
  }

  /** The conversation's last turn was served by `worker`: its next one should go elsewhere. */
  servedBy(conversation: Conversation, worker: string): void {
    conversation.lastWorker = worker;
  }

  /** The conversation connection `slot` (last answered by `slotWorker`) should send next. */
  take(slot: number, slotWorker: string | undefined): Conversation | undefined {
    this.slotWorkers.set(slot, slotWorker);
    const hops = (c: Conversation) => {
      if (c.lastSlot === undefined) return true;
      if (slotWorker !== undefined && c.lastWorker !== undefined) {
        if (c.lastWorker !== slotWorker) return true;
        // Same worker: wait for another, unless no live connection can reach one.
        if (this.canHop(c)) return false;
      }
      return c.lastSlot !== slot;
    };
    // Drop conversations that can no longer send (abandoned meanwhile).
    for (let i = this.ready.length - 1; i >= 0; i--) {
      const c = this.ready[i];
      if (c && !this.canSend(c)) {
        c.queued = false;
        this.ready.splice(i, 1);
      }
    }
    let index = this.ready.findIndex(hops);
    if (index < 0) {
      for (const c of this.ready) c.skips++;
      index = this.ready.findIndex((c) => c.skips > this.starvationLimit && !this.canHop(c));
    }
    if (index < 0) return undefined;
    const [conversation] = this.ready.splice(index, 1);
    if (conversation) conversation.queued = false;
    return conversation;
  }

  /** Connection `slot` is closed for good. */
  forget(slot: number): void {
    this.slotWorkers.delete(slot);
  }

  /**
   * Whether a live connection may reach another worker than the conversation's last one:
   * one known to talk to another worker, or one that has not answered yet. Then the
   * conversation waits for it instead of going back to the same worker.
   */
  private canHop(conversation: Conversation): boolean {
    const last = conversation.lastWorker;
    if (last === undefined) {
      return [...this.slotWorkers.keys()].some((slot) => slot !== conversation.lastSlot);
    }
    return [...this.slotWorkers.values()].some((worker) => worker !== last);
  }
}

/**
 * Sticky mode: the conversation of connection `slot` that is furthest behind, so that a
 * connection's conversations all progress together.
 */
export function nextPinned(
  conversations: readonly Conversation[],
  slot: number,
  turnsLeft: (conversation: Conversation) => number,
): Conversation | undefined {
  let chosen: Conversation | undefined;
  for (const c of conversations) {
    const ready =
      c.slot === slot &&
      c.turnsInFlight === 0 &&
      !c.reading &&
      (c.readsPending > 0 || (!c.abandoned && turnsLeft(c) > 0));
    if (ready && (!chosen || c.nextIndex < chosen.nextIndex)) chosen = c;
  }
  return chosen;
}
