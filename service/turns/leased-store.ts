import type { ChatMessage } from "../contract.ts";
import { conversationKeys } from "../store/commands.ts";
import type { ConversationStore, RecentHistory, StreamDone } from "../store/conversation-store.ts";

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
  /** A streamed turn's done event, to append to its stream in the same script. */
  done?: StreamDone;
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
export async function commitTurn(
  store: ConversationStore | undefined,
  write: (record: TurnRecord | undefined) => Promise<void>,
): Promise<void> {
  if (store instanceof LeasedConversationStore) await store.commitElsewhere(write);
  else await write(undefined);
}

/** A turn's one write, held until its answer is known: made with the done event, if any. */
type HeldWrite = (done: StreamDone | undefined) => Promise<unknown>;

/**
 * The store as one turn holding its conversation's lease sees it: reads of its conversation
 * come from the lease where they can, and its append is fenced (refused unless the lease
 * still holds and the history is still `lease.length` long). Other keys pass through.
 */
export class LeasedConversationStore implements ConversationStore {
  readonly backend: string;
  /** Set once the turn is stored (fenced append, or a commit elsewhere), which also ended the lease. */
  stored = false;
  private holding = false;
  private held: HeldWrite | undefined;

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
    if (this.holding) {
      this.hold((done) => this.inner.append(key, messages, { ...fence, done }));
      // What the append will return: it stores only onto the history the lease read.
      return lease.length + messages.length;
    }
    const after = await this.inner.append(key, messages, fence);
    this.stored = true;
    return after;
  }

  /**
   * For a turn that stores its state elsewhere: `write` gets the turn's record and must check
   * the fence, store, record the turn and end the lease in one step (see TurnRecord).
   */
  async commitElsewhere(write: (record: TurnRecord) => Promise<void>): Promise<void> {
    const record = turnRecordOf(this.lease);
    if (this.holding) {
      this.hold((done) => write({ ...record, done }));
      return;
    }
    await write(record);
    this.stored = true;
  }

  /**
   * From now on the turn's one write (its append, or its commit elsewhere) is held, and made
   * by `commit`: a streamed turn's done event carries the turn's answer, known only once the
   * service returns, and it must be written in the same script as the turn's state.
   */
  holdWrites(): void {
    this.holding = true;
  }

  /** Makes the held write, with `done`; false when the turn held none (it stored nothing). */
  async commit(done?: StreamDone): Promise<boolean> {
    const write = this.held;
    if (!write) return false;
    this.held = undefined;
    await write(done);
    this.stored = true;
    return true;
  }

  private hold(write: HeldWrite): void {
    if (this.held) throw new Error("a turn writes its state once: a second write under one lease");
    this.held = write;
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
