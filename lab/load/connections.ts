import type autocannon from "autocannon";
import { type AnswerBody, attemptAnswerLog, parseAnswerBody, turnAnswer } from "./answers.ts";
import { toFinalRead } from "./final-reads.ts";
import type { LoadOptions } from "./load-options.ts";
import type { TurnProgress } from "./progress.ts";
import type { AttemptAnswerLog, FinalRead, NoAnswer } from "./records.ts";
import { idleRequest, plannedRequest } from "./requests.ts";
import { now, type Planned, type TurnScheduler, workerKey } from "./scheduler.ts";

/** One autocannon connection and what it has on the wire right now. */
export interface Slot {
  /** The connection's number, in the order autocannon opened them (the scheduler's slot). */
  index: number;
  planned: Planned;
  /** The worker this connection's last answer came from (see workerKey). */
  worker?: string;
  client: autocannon.Client;
  retired: boolean;
  /** When the request on the wire was sent. */
  sentAt: number;
  /** The last answer said `Connection: close`: the next request written is lost with the socket. */
  closing: boolean;
  /** autocannon gave up waiting for the answer on the wire (else: the connection dropped). */
  timedOut: boolean;
}

type PlannedTurn = Extract<Planned, { kind: "turn" }>;

/** What the connections need to know of the run. */
export type ConnectionOptions = Pick<
  LoadOptions,
  "token" | "connections" | "workers" | "sticky" | "onAnswer"
>;

/**
 * Every connection of one load run: what each sends next (from the one shared scheduler)
 * and what each answer tells it. Stops the run (see stopWith) once the scheduler is done.
 */
export class LoadConnections {
  /** Every non-2xx answer to a turn attempt, in arrival order. */
  readonly errorAnswers: AttemptAnswerLog[] = [];
  /** Sticky mode: each conversation's closing read, over its own connection. */
  readonly stickyReads: FinalRead[] = [];
  /** Requests sent while no conversation was ready (GET /healthz), not counted as turns. */
  idleRequests = 0;
  /** When the scheduler was done; undefined while it is not. */
  finishedAt: number | undefined;
  private readonly slots: Slot[] = [];
  private liveSlots: number;
  private stopLoad?: () => void;

  constructor(
    private readonly scheduler: TurnScheduler,
    private readonly options: ConnectionOptions,
    private readonly progress: TurnProgress,
  ) {
    this.liveSlots = options.connections;
  }

  get finished(): boolean {
    return this.finishedAt !== undefined;
  }

  /** How to stop the load once every conversation is done (the autocannon instance's stop). */
  stopWith(stop: () => void): void {
    this.stopLoad = stop;
  }

  /** A connection autocannon has just set up: its slot. */
  open(client: autocannon.Client): Slot {
    const slot: Slot = {
      index: this.slots.length,
      planned: { kind: "idle" },
      client,
      retired: false,
      sentAt: now(),
      closing: false,
      timedOut: false,
    };
    this.slots.push(slot);
    return slot;
  }

  /** The request `slot` writes next (autocannon asks before every write). */
  plan(slot: Slot, base: autocannon.Request): autocannon.Request {
    if (slot.retired) return idleRequest(base);
    this.giveUpOnUnanswered(slot);
    if (slot.closing) {
      // autocannon writes this request into the socket the server is closing: send nothing
      // that matters; it plans again once it has reconnected.
      slot.closing = false;
      slot.planned = { kind: "idle" };
      return idleRequest(base);
    }
    slot.planned = this.finished ? { kind: "idle" } : this.scheduler.next(slot.index, slot.worker);
    slot.sentAt = now();
    if (slot.planned.kind !== "idle") return plannedRequest(base, slot.planned, this.options.token);
    this.idle(slot);
    return idleRequest(base);
  }

  /** An answer on `slot`: to a turn, a read, or an idle /healthz. */
  settle(slot: Slot, status: number, body: string, headers: Record<string, unknown>): void {
    const planned = slot.planned;
    slot.planned = { kind: "idle" };
    if (String(headers.connection ?? "").toLowerCase() === "close") slot.closing = true;
    const parsed = parseAnswerBody(body);
    // Every answer (turn, read, /healthz) names its worker: remember who is behind this connection.
    if (parsed?.servedBy) slot.worker = workerKey(parsed.servedBy);
    if (planned.kind === "turn") {
      this.settleTurn(planned, slot.sentAt, status, parsed);
    } else if (planned.kind === "read") {
      this.stickyReads.push(toFinalRead(planned.conversationId, status, parsed));
      this.scheduler.readFinished(planned.conversationId, status);
    }
    this.finishIfDone();
  }

  /** Whatever is still on the wire when the run stops has an unknown outcome. */
  abandonInFlight(): void {
    for (const slot of this.slots) {
      if (slot.planned.kind === "turn") this.lostAttempt(slot.planned);
    }
  }

  /** A request still on the slot never got its answer (timeout or dropped connection). */
  private giveUpOnUnanswered(slot: Slot): void {
    if (slot.planned.kind === "turn") {
      this.lostAttempt(slot.planned, slot.timedOut ? "timeout" : "connection-lost");
    }
    if (slot.planned.kind === "read") this.scheduler.readFinished(slot.planned.conversationId);
    slot.timedOut = false;
  }

  /** Nothing is ready for `slot`: it sends an idle request, maybe its last. */
  private idle(slot: Slot): void {
    this.idleRequests++;
    if (this.shouldRetire(slot)) {
      // Nothing will be ready for this connection: close it (after this last request is
      // written) rather than let it spin on /healthz.
      slot.retired = true;
      this.liveSlots--;
      this.scheduler.retired(slot.index);
      queueMicrotask(() => (slot.client as autocannon.Client & { destroy(): void }).destroy());
    }
    queueMicrotask(() => this.finishIfDone());
  }

  private shouldRetire(slot: Slot): boolean {
    if (this.options.sticky) return !this.scheduler.hasWorkFor(slot.index);
    // Keep a connection per worker so the last conversations can still hop.
    const lastOfItsWorker =
      slot.worker !== undefined &&
      !this.slots.some((s) => s !== slot && !s.retired && s.worker === slot.worker);
    return (
      !lastOfItsWorker &&
      this.liveSlots > Math.max(this.scheduler.unfinished(), this.options.workers)
    );
  }

  private settleTurn(planned: PlannedTurn, sentAt: number, status: number, body: AnswerBody) {
    if (planned.attempt === 0) this.progress.tick();
    const answer = attemptAnswerLog(planned.record.turnId, status, body, sentAt, now());
    if (status < 200 || status >= 300) this.errorAnswers.push(answer);
    this.scheduler.answered(planned.record.turnId, turnAnswer(answer, body, planned.record.sentAt));
    this.options.onAnswer?.(answer);
  }

  private lostAttempt(planned: PlannedTurn, why?: NoAnswer): void {
    if (planned.attempt === 0) this.progress.tick();
    this.scheduler.lost(planned.record.turnId, why);
  }

  private finishIfDone(): void {
    if (!this.finished && this.scheduler.done()) {
      this.finishedAt = now();
      this.stopLoad?.();
    }
  }
}
