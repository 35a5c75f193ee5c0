import { randomUUID } from "node:crypto";
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
 * next turn of whichever conversation is ready (its previous turn answered), in FIFO order:
 * each conversation stays strictly sequential, but its turns hop across connections, and so
 * across cluster workers, as they would behind a load balancer. In sticky mode each
 * conversation only ever uses its own connection, and ends with a read of its history there.
 */
export class TurnScheduler {
  readonly records: TurnRecord[] = [];
  private readonly conversations: Conversation[] = [];
  /** Shared FIFO of ready conversations (non-sticky mode). */
  private readonly ready: Conversation[] = [];
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
      };
      this.conversations.push(conversation);
      this.ready.push(conversation);
    }
  }

  get conversationIds(): string[] {
    return this.conversations.map((c) => c.id);
  }

  /** The next request for connection `slot`; `idle` when no conversation is ready. */
  next(slot: number): Planned {
    const conversation = this.options.sticky ? this.nextPinned(slot) : this.ready.shift();
    if (!conversation) return { kind: "idle" };
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

/** High-resolution wall clock in ms, comparable across the records of one run. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
