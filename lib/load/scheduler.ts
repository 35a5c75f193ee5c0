import { randomUUID } from "node:crypto";
import type { ServedBy } from "../types.ts";
import type { TurnRecord } from "./records.ts";
import { turnText } from "./script.ts";

/** The fields of a turn's record that its answer fills in. */
export type TurnAnswer = Pick<
  TurnRecord,
  "outcome" | "status" | "servedBy" | "messagesSeen" | "reply" | "answeredAt" | "latencyMs"
>;

/** What a free connection should send next. */
export type Planned =
  | { kind: "turn"; record: TurnRecord }
  | { kind: "read"; conversationId: string }
  | { kind: "idle" };

interface Conversation {
  id: string;
  number: number;
  nextIndex: number;
  /** Reads still to send on the pinned connection (sticky mode only). */
  readsPending: number;
  inFlight: boolean;
  /** Stops after a turn with an unknown outcome: the next turn could overlap it. */
  abandoned: boolean;
  /** Sticky mode: the one connection this conversation uses. */
  slot?: number;
  /** The connection and worker of the previous turn. */
  lastSlot?: number;
  lastWorker?: string;
  /** Times a free connection passed this conversation over, since its last turn. */
  skips: number;
}

export interface SchedulerOptions {
  conversations: number;
  turnsPerConversation: number;
  connections: number;
  /** Pin each conversation to one connection (so to one worker), as sticky routing would. */
  sticky: boolean;
  /** Prefix making this run's conversation ids unique. */
  runId: string;
}

/**
 * One scheduler shared by every connection of the load test. A free connection gets the
 * next turn of whichever conversation is ready (its previous turn answered), oldest first:
 * each conversation stays strictly sequential, but its turns hop across connections, and so
 * across cluster workers, as they would behind a round-robin load balancer.
 *
 * The hop is made explicit rather than left to chance: a connection takes a conversation
 * whose previous turn was served by a *different* worker than the one this connection
 * talks to (or, while that is not known yet or only one worker exists, came over a
 * different connection). Only a
 * conversation passed over `starvationLimit` times goes to any connection, so a run always
 * finishes, even against a single process. In sticky mode each conversation only ever uses
 * its own connection, and ends with a read of its history there.
 */
export class TurnScheduler {
  readonly records: TurnRecord[] = [];
  private readonly conversations: Conversation[] = [];
  /** Shared FIFO of ready conversations (non-sticky mode). */
  private readonly ready: Conversation[] = [];
  /** Workers that have answered a turn; hopping between workers needs at least two. */
  private readonly workersSeen = new Set<string>();
  private readonly byTurnId = new Map<string, { conversation: Conversation; record: TurnRecord }>();

  constructor(private readonly options: SchedulerOptions) {
    for (let n = 1; n <= options.conversations; n++) {
      const conversation: Conversation = {
        id: `${options.runId}-c${n}`,
        number: n,
        nextIndex: 0,
        readsPending: options.sticky ? 1 : 0,
        inFlight: false,
        abandoned: false,
        slot: options.sticky ? (n - 1) % options.connections : undefined,
        skips: 0,
      };
      this.conversations.push(conversation);
      this.ready.push(conversation);
    }
  }

  get conversationIds(): string[] {
    return this.conversations.map((c) => c.id);
  }

  /**
   * The next request for connection `slot`, which last talked to `slotWorker` (if known);
   * `idle` when no conversation is ready for it.
   */
  next(slot: number, slotWorker?: string): Planned {
    const conversation = this.options.sticky
      ? this.nextPinned(slot)
      : this.nextHopping(slot, slotWorker);
    if (!conversation) return { kind: "idle" };
    conversation.lastSlot = slot;
    conversation.skips = 0;
    conversation.inFlight = true;
    if (this.turnsLeft(conversation) === 0) {
      conversation.readsPending--;
      return { kind: "read", conversationId: conversation.id };
    }
    const record: TurnRecord = {
      conversationId: conversation.id,
      index: conversation.nextIndex,
      turnId: randomUUID(),
      text: turnText(conversation.number, conversation.nextIndex),
      sentAt: now(),
      outcome: "unknown",
    };
    conversation.nextIndex++;
    this.records.push(record);
    this.byTurnId.set(record.turnId, { conversation, record });
    return { kind: "turn", record };
  }

  /** Records the answer to a turn; the conversation becomes ready for its next turn. */
  answered(turnId: string, answer: TurnAnswer): void {
    const entry = this.byTurnId.get(turnId);
    if (!entry) return;
    Object.assign(entry.record, answer);
    if (answer.servedBy) {
      entry.conversation.lastWorker = workerKey(answer.servedBy);
      this.workersSeen.add(entry.conversation.lastWorker);
    }
    this.release(entry.conversation);
  }

  /** The turn's answer never came (timeout, dropped connection): its outcome stays unknown. */
  lost(turnId: string): void {
    const entry = this.byTurnId.get(turnId);
    if (!entry) return;
    entry.conversation.abandoned = true;
    entry.conversation.inFlight = false;
  }

  /** A sticky read finished (or was lost); either way the conversation has nothing left. */
  readFinished(conversationId: string): void {
    const conversation = this.conversations.find((c) => c.id === conversationId);
    if (conversation) conversation.inFlight = false;
  }

  /** Conversations that still have a turn or read to send, or one on the wire. */
  unfinished(): number {
    return this.conversations.filter((c) => this.hasWork(c)).length;
  }

  /** Sticky mode: whether connection `slot` will ever have something to send again. */
  hasWorkFor(slot: number): boolean {
    return this.conversations.some((c) => c.slot === slot && this.hasWork(c));
  }

  private hasWork(c: Conversation): boolean {
    if (c.inFlight) return true;
    return !c.abandoned && (this.turnsLeft(c) > 0 || c.readsPending > 0);
  }

  /** True when no conversation has work left and no turn is waiting for an answer. */
  done(): boolean {
    return this.conversations.every((c) => !this.hasWork(c));
  }

  private release(conversation: Conversation): void {
    conversation.inFlight = false;
    const moreToDo = this.turnsLeft(conversation) > 0 || conversation.readsPending > 0;
    if (moreToDo && !this.options.sticky) this.ready.push(conversation);
  }

  private nextHopping(slot: number, slotWorker: string | undefined): Conversation | undefined {
    const hops = (c: Conversation) => {
      if (c.lastSlot === undefined) return true;
      if (slotWorker !== undefined && c.lastWorker !== undefined)
        return c.lastWorker !== slotWorker;
      return c.lastSlot !== slot;
    };
    let index = this.ready.findIndex(hops);
    if (index < 0) {
      for (const c of this.ready) c.skips++;
      index = this.ready.findIndex((c) => c.skips > this.starvationLimit);
    }
    if (index < 0) return undefined;
    return this.ready.splice(index, 1)[0];
  }

  private get starvationLimit(): number {
    return 4 * this.options.connections;
  }

  private nextPinned(slot: number): Conversation | undefined {
    return this.conversations.find(
      (c) =>
        c.slot === slot &&
        !c.inFlight &&
        !c.abandoned &&
        (this.turnsLeft(c) > 0 || c.readsPending > 0),
    );
  }

  private turnsLeft(conversation: Conversation): number {
    return this.options.turnsPerConversation - conversation.nextIndex;
  }
}

/** Identifies one worker process across hosts. */
export function workerKey(servedBy: ServedBy): string {
  return `${servedBy.hostname}:${servedBy.pid}`;
}

/** High-resolution wall clock in ms, comparable across the records of one run. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
