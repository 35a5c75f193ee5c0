import { randomUUID } from "node:crypto";
import type { ServedBy } from "../../service/contract.ts";
import { type Conversation, HopQueue, nextPinned } from "./conversations.ts";
import type { AttemptOutcome, NoAnswer, TurnRecord } from "./records.ts";
import { turnText } from "./script.ts";
import { mulberry32 } from "./seeded-random.ts";
import { type DisconnectOptions, droppedTurns, turnNumber } from "./stream-drops.ts";

/** What one attempt's answer tells about its turn. */
export type AttemptAnswer = Pick<
  TurnRecord,
  "status" | "servedBy" | "messagesSeen" | "historyLength" | "reply" | "answeredAt" | "latencyMs"
> & {
  outcome: AttemptOutcome;
  /** The error code of a non-2xx JSON answer, or of a stream's error event. */
  code?: string;
  /**
   * A streamed turn that never reached its end, but that a read then showed stored on
   * `worker`'s watch: later turns can be ordered after it, so its conversation goes on.
   */
  storedAfterBreak?: { worker: string };
};

/** What a free connection should send next. `attempt` 0 is the turn itself, 1+ are retries. */
export type Planned =
  | {
      kind: "turn";
      record: TurnRecord;
      attempt: number;
      /** With --disconnect-rate: drop the stream after this many deltas, then resume it. */
      dropAfter?: number;
    }
  | { kind: "read"; conversationId: string }
  | { kind: "idle" };

interface TurnState {
  conversation: Conversation;
  record: TurnRecord;
  /** Attempts sent so far (the next attempt's number). */
  sent: number;
  attemptsOut: number;
  retriesPending: number;
  /** A retry to send once no attempt is out (as if the first answer was lost). */
  retryAfterAnswer: boolean;
  outcomes: AttemptOutcome[];
  /** A read showed the turn stored although no attempt got its answer (see storedAfterBreak). */
  seenStored: boolean;
}

export interface SchedulerOptions {
  conversations: number;
  turnsPerConversation: number;
  connections: number;
  /** Pin each conversation to one connection (so to one worker), as sticky routing would. */
  sticky: boolean;
  /** Up to this many turns of one conversation in flight at once (1 = strictly sequential). */
  overlap: number;
  /** Share of turns sent again with the same turnId, as if the first answer was lost. */
  retryRate: number;
  /** Seed of the retry choices, so a run can be repeated. */
  seed: number;
  /** Prefix making this run's conversation ids unique. */
  runId: string;
  /**
   * Resend a turn the server definitely refused for now (503 store_unavailable, 409
   * conversation busy, a stream ended `turn_interrupted`: nothing was stored) with the same
   * turnId after `backoffMs`, up to `maxAttempts` sends in all, as a well-behaved client does
   * during an outage or after a crash.
   */
  resendRefused?: { backoffMs: number; maxAttempts: number };
  /** Streamed turns the client drops mid-stream (their first attempt), chosen by the seed. */
  disconnect?: DisconnectOptions;
}

/**
 * One scheduler shared by every connection of the load test. A free connection gets the
 * next turn of whichever conversation may send one, oldest first: a conversation has at
 * most `overlap` turns in flight (1: strictly sequential), and its turns hop across
 * connections, and so across cluster workers, as they would behind a round-robin load
 * balancer. The hop is made explicit rather than left to chance (see HopQueue).
 *
 * With `retryRate`, some turns are sent a second time with the same turnId: half of them
 * while the first attempt is still running, half after its answer (as if it was lost).
 * In sticky mode each conversation only uses its own connection, and ends with a read of
 * its history there.
 */
export class TurnScheduler {
  readonly records: TurnRecord[] = [];
  private readonly conversations: Conversation[] = [];
  /** Conversations that may send their next turn (non-sticky mode), oldest first. */
  private readonly hopping: HopQueue;
  /** Retries due now: attempts of turns already sent. */
  private readonly retries: TurnState[] = [];
  private readonly turns = new Map<string, TurnState>();
  private readonly random: () => number;
  /** The turns dropped mid-stream, by turnNumber. */
  private readonly drops: Set<number>;

  constructor(private readonly options: SchedulerOptions) {
    if (options.sticky && options.overlap > 1) {
      throw new Error("--sticky pins a conversation to one connection: it cannot overlap turns");
    }
    this.random = mulberry32(options.seed);
    const { disconnect } = options;
    this.drops = disconnect
      ? droppedTurns(
          options.seed,
          options.conversations,
          options.turnsPerConversation,
          disconnect.rate,
        )
      : new Set();
    this.hopping = new HopQueue((c) => this.canSend(c), 4 * options.connections);
    for (let n = 1; n <= options.conversations; n++) {
      const conversation: Conversation = {
        id: `${options.runId}-c${n}`,
        number: n,
        nextIndex: 0,
        readsPending: options.sticky ? 1 : 0,
        turnsInFlight: 0,
        reading: false,
        readsSent: 0,
        queued: false,
        abandoned: false,
        slot: options.sticky ? (n - 1) % options.connections : undefined,
        skips: 0,
      };
      this.conversations.push(conversation);
      this.enqueue(conversation);
    }
  }

  get conversationIds(): string[] {
    return this.conversations.map((c) => c.id);
  }

  /**
   * The next request for connection `slot`, which last talked to `slotWorker` (if known);
   * `idle` when nothing is ready for it.
   */
  next(slot: number, slotWorker?: string): Planned {
    const retry = this.takeRetry(slot);
    if (retry) {
      retry.retriesPending--;
      retry.attemptsOut++;
      return { kind: "turn", record: retry.record, attempt: retry.sent++ };
    }
    const conversation = this.options.sticky
      ? nextPinned(this.conversations, slot, (c) => this.turnsLeft(c))
      : this.hopping.take(slot, slotWorker);
    if (!conversation) return { kind: "idle" };
    conversation.lastSlot = slot;
    conversation.skips = 0;
    if (this.turnsLeft(conversation) === 0 || conversation.abandoned) {
      conversation.readsPending--;
      conversation.reading = true;
      conversation.readsSent++;
      return { kind: "read", conversationId: conversation.id };
    }
    const record: TurnRecord = {
      conversationId: conversation.id,
      index: conversation.nextIndex,
      turnId: randomUUID(),
      text: turnText(conversation.number, conversation.nextIndex),
      sentAt: now(),
      outcome: "unknown",
      attempts: 1,
    };
    conversation.nextIndex++;
    conversation.turnsInFlight++;
    this.records.push(record);
    const state: TurnState = {
      conversation,
      record,
      sent: 1,
      attemptsOut: 1,
      retriesPending: 0,
      retryAfterAnswer: false,
      outcomes: [],
      seenStored: false,
    };
    this.turns.set(record.turnId, state);
    if (this.random() < this.options.retryRate) this.planRetry(state);
    // With overlap, its next turn goes first, to the next free connection: a burst of up
    // to `overlap` turns in flight at once, as a double submit or two open tabs make.
    if (this.canSend(conversation)) this.enqueue(conversation, "front");
    return { kind: "turn", record, attempt: 0, dropAfter: this.dropAfter(record, conversation) };
  }

  /** The deltas after which the client drops this turn's stream; undefined: it does not. */
  private dropAfter(record: TurnRecord, conversation: Conversation): number | undefined {
    const { disconnect, turnsPerConversation } = this.options;
    const n = turnNumber(conversation.number, record.index, turnsPerConversation);
    return disconnect && this.drops.has(n) ? disconnect.afterDeltas : undefined;
  }

  /** Records one attempt's answer; the turn settles once no attempt of it is left. */
  answered(turnId: string, answer: AttemptAnswer): void {
    const state = this.turns.get(turnId);
    if (!state) return;
    state.attemptsOut--;
    state.outcomes.push(answer.outcome);
    const { record } = state;
    if (answer.outcome === "ok" && record.outcome !== "ok") {
      Object.assign(record, { ...answer, outcome: "ok" });
      if (answer.servedBy) this.hopping.servedBy(state.conversation, workerKey(answer.servedBy));
    } else if (record.outcome !== "ok" && record.status === undefined) {
      record.status = answer.status;
    }
    if (answer.storedAfterBreak) {
      state.seenStored = true;
      this.hopping.servedBy(state.conversation, answer.storedAfterBreak.worker);
    }
    const resend = this.options.resendRefused;
    if (resend && this.shouldResend(state, answer, resend.maxAttempts)) {
      state.retriesPending++;
      state.record.attempts = (state.record.attempts ?? 1) + 1;
      setTimeout(() => this.retries.push(state), resend.backoffMs).unref();
    }
    this.settleIfDone(state);
  }

  /**
   * A definite "not now" (nothing stored), or a write the store could not confirm, with sends
   * left: try the same turn again later. Resending an uncertain write with its turnId is what
   * settles it: the turn was stored (the resend is answered from the store) or it runs now.
   * A stream that ended with `turn_interrupted` (its worker died, nothing stored) comes in a
   * 200: the error event, not the status, says to send it again with the same turnId.
   */
  private shouldResend(state: TurnState, answer: AttemptAnswer, maxAttempts: number): boolean {
    const notNow = answer.outcome === "failed" && (answer.status === 503 || answer.status === 409);
    const unconfirmed = answer.status === 503 && answer.code === "store_write_uncertain";
    const interrupted = answer.outcome === "failed" && answer.code === "turn_interrupted";
    if (!notNow && !unconfirmed && !interrupted) return false;
    return state.sent + state.retriesPending < maxAttempts && state.attemptsOut === 0;
  }

  /** The first retry due that this connection may send (sticky: only its own conversations'). */
  private takeRetry(slot: number): TurnState | undefined {
    const index = this.retries.findIndex(
      (r) => r.conversation.slot === undefined || r.conversation.slot === slot,
    );
    if (index < 0) return undefined;
    const [retry] = this.retries.splice(index, 1);
    return retry;
  }

  /** An attempt's answer never came (timeout, dropped connection). */
  lost(turnId: string, why?: NoAnswer): void {
    const state = this.turns.get(turnId);
    if (!state) return;
    if (why) state.record.noAnswer = why;
    state.attemptsOut--;
    state.outcomes.push("unknown");
    this.settleIfDone(state);
  }

  /**
   * A sticky read finished (or was lost). A definite refusal (503) is read again after the
   * backoff when resendRefused allows; otherwise the conversation has nothing left.
   */
  readFinished(conversationId: string, status?: number): void {
    const conversation = this.conversations.find((c) => c.id === conversationId);
    if (!conversation) return;
    const resend = this.options.resendRefused;
    if (resend && status === 503 && conversation.readsSent < resend.maxAttempts) {
      // Still `reading` until the timer fires, so the run does not end meanwhile.
      setTimeout(() => {
        conversation.readsPending++;
        conversation.reading = false;
      }, resend.backoffMs).unref();
      return;
    }
    conversation.reading = false;
  }

  /** Connection `slot` is closed for good: no conversation should wait for it to hop. */
  retired(slot: number): void {
    this.hopping.forget(slot);
  }

  /** Conversations that still have a turn or read to send, or one on the wire. */
  unfinished(): number {
    return this.conversations.filter((c) => this.hasWork(c)).length;
  }

  /** Sticky mode: whether connection `slot` will ever have something to send again. */
  hasWorkFor(slot: number): boolean {
    return this.conversations.some((c) => c.slot === slot && this.hasWork(c));
  }

  /** True when no conversation has work left and no attempt is waiting for an answer. */
  done(): boolean {
    return this.retries.length === 0 && this.conversations.every((c) => !this.hasWork(c));
  }

  private planRetry(state: TurnState): void {
    state.retriesPending++;
    state.record.attempts = (state.record.attempts ?? 1) + 1;
    // Half while the first attempt runs, half once its answer is in.
    if (this.random() < 0.5) this.retries.push(state);
    else state.retryAfterAnswer = true;
  }

  private settleIfDone(state: TurnState): void {
    if (state.retryAfterAnswer && state.attemptsOut === 0) {
      state.retryAfterAnswer = false;
      this.retries.push(state);
      return;
    }
    if (state.attemptsOut > 0 || state.retriesPending > 0) return;
    const { record, conversation } = state;
    if (record.outcome !== "ok") record.outcome = settledOutcome(state.outcomes);
    conversation.turnsInFlight--;
    // A turn whose fate is unknown stops its conversation, unless a read showed it stored.
    if (record.outcome === "unknown" && !state.seenStored) conversation.abandoned = true;
    if (
      this.canSend(conversation) ||
      (this.turnsLeft(conversation) === 0 && conversation.readsPending > 0)
    ) {
      this.enqueue(conversation);
    }
  }

  private enqueue(conversation: Conversation, where: "front" | "back" = "back"): void {
    if (!this.options.sticky) this.hopping.add(conversation, where);
  }

  private canSend(c: Conversation): boolean {
    return !c.abandoned && this.turnsLeft(c) > 0 && c.turnsInFlight < this.options.overlap;
  }

  private hasWork(c: Conversation): boolean {
    if (c.turnsInFlight > 0 || c.reading) return true;
    // An abandoned conversation sends no more turns, but still gets its sticky read.
    return c.readsPending > 0 || (!c.abandoned && this.turnsLeft(c) > 0);
  }

  private turnsLeft(conversation: Conversation): number {
    return this.options.turnsPerConversation - conversation.nextIndex;
  }
}

/**
 * A turn's outcome from all its attempts, Jepsen style: acknowledged if any attempt was;
 * otherwise unknown if any attempt's fate is unknown (or it only met its own running twin);
 * otherwise a definite failure.
 */
export function settledOutcome(outcomes: readonly AttemptOutcome[]): TurnRecord["outcome"] {
  if (outcomes.includes("ok")) return "ok";
  if (outcomes.includes("failed") && outcomes.every((o) => o === "failed")) return "failed";
  return "unknown";
}

/** Identifies one worker process across hosts. */
export function workerKey(servedBy: ServedBy): string {
  return `${servedBy.hostname}:${servedBy.pid}`;
}

/** High-resolution wall clock in ms, comparable across the records of one run. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
