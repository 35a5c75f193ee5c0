import type { ChatMessage } from "../contract.ts";
import type { ConversationStore, RecentHistory } from "../store/conversation-store.ts";

/** A conversation's lease, as TurnGate took it: everything a fenced turn needs, as values. */
export interface TurnLease {
  key: string;
  turnId: string;
  /** Fencing token: each lease of the conversation gets a larger one. */
  token: string;
  /** The history's length when the lease was taken: the version the turn's append expects. */
  length: number;
  /** The last `window` messages, read with the lease, so the turn's first read costs nothing. */
  window: number;
  recent: readonly ChatMessage[];
}

/**
 * The store as one turn holding its conversation's lease sees it: reads of its conversation
 * come from the lease where they can, and its append is fenced (refused unless the lease
 * still holds and the history is still `lease.length` long). Other keys pass through.
 */
export class LeasedConversationStore implements ConversationStore {
  readonly backend: string;
  /** Set once the fenced append stored the turn, which also ended the lease. */
  appended = false;

  constructor(
    private readonly inner: ConversationStore,
    readonly lease: TurnLease,
  ) {
    this.backend = inner.backend;
  }

  load(key: string): Promise<ChatMessage[]> {
    return this.inner.load(key);
  }

  async loadRecent(key: string, recent: number): Promise<RecentHistory> {
    const { lease } = this;
    if (key !== lease.key || this.appended || recent > lease.window) {
      return this.inner.loadRecent(key, recent);
    }
    return { messages: lease.recent.slice(-recent), length: lease.length };
  }

  loadRange(key: string, start: number, count: number): Promise<ChatMessage[]> {
    return this.inner.loadRange(key, start, count);
  }

  async append(key: string, messages: readonly ChatMessage[]): Promise<number> {
    const { lease } = this;
    // Another key, or nothing to store: no fenced append, so the gate still ends the lease.
    if (key !== lease.key || messages.length === 0) return this.inner.append(key, messages);
    const fence = { token: lease.token, turnId: lease.turnId, expectedLength: lease.length };
    const after = await this.inner.append(key, messages, fence);
    this.appended = true;
    return after;
  }

  replace(key: string, messages: readonly ChatMessage[]): Promise<number> {
    // Rewriting the whole history under a lease would bypass the fence: a turn appends.
    if (key === this.lease.key)
      throw new Error("a turn holding its lease appends; replace is not fenced");
    return this.inner.replace(key, messages);
  }

  ping(): Promise<boolean> {
    return this.inner.ping();
  }

  /** The store belongs to the service, not to the turn. */
  async close(): Promise<void> {}
}
