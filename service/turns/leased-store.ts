import type { ChatMessage } from "../contract.ts";
import { conversationKeys } from "../store/commands.ts";
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
 * What the one write of a turn whose state lives outside the conversation store (a LangGraph
 * checkpoint, an Agents SDK session) carries, so that it does in one script what the fenced
 * append does: store only while `holder` still holds `leaseKey`, record `turnId` as completed
 * in `turnsKey` (a retry is then answered from the stored state), end the lease and wake the
 * turns waiting for it. Every key shares the conversation's hash tag.
 */
export interface TurnRecord {
  leaseKey: string;
  /** The lease's value while this turn holds it: "<token>:<turnId>". */
  holder: string;
  turnsKey: string;
  turnId: string;
}

/** The record a turn holding `lease` commits with. */
export function turnRecordOf(lease: TurnLease): TurnRecord {
  const keys = conversationKeys(lease.key);
  return {
    leaseKey: keys.lease,
    holder: `${lease.token}:${lease.turnId}`,
    turnsKey: keys.turns,
    turnId: lease.turnId,
  };
}

/**
 * Stores a turn through `write`, its own writer: with the turn's record when `store` is a
 * turn's leased view (the app runs a turn gate), without one otherwise (one writer at a time is
 * then the caller's promise).
 */
export function commitTurn<T>(
  store: ConversationStore | undefined,
  write: (record: TurnRecord | undefined) => Promise<T>,
): Promise<T> {
  return store instanceof LeasedConversationStore ? store.commitElsewhere(write) : write(undefined);
}

/**
 * The store as one turn holding its conversation's lease sees it: reads of its conversation
 * come from the lease where they can, and its append is fenced (refused unless the lease
 * still holds and the history is still `lease.length` long). Other keys pass through.
 */
export class LeasedConversationStore implements ConversationStore {
  readonly backend: string;
  /** Set once the turn is stored (fenced append, or a commit elsewhere), which also ended the lease. */
  stored = false;

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
    if (key !== lease.key || this.stored || recent > lease.window) {
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
    this.stored = true;
    return after;
  }

  /**
   * For a turn that stores its state elsewhere: `write` gets the turn's record and must check
   * the fence, store, record the turn and end the lease in one step (see TurnRecord).
   */
  async commitElsewhere<T>(write: (record: TurnRecord) => Promise<T>): Promise<T> {
    const result = await write(turnRecordOf(this.lease));
    this.stored = true;
    return result;
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
