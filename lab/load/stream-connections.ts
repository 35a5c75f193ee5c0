import { setMaxListeners } from "node:events";
import { Agent } from "node:http";
import { setImmediate as nextTurnOfLoop } from "node:timers/promises";
import type { HealthResponse } from "../../service/contract.ts";
import { toFinalRead } from "./final-reads.ts";
import { requestJson } from "./http-json.ts";
import type { LoadOptions } from "./load-options.ts";
import type { TurnProgress } from "./progress.ts";
import type { AttemptAnswerLog, FinalRead } from "./records.ts";
import { now, type Planned, type TurnScheduler, workerKey } from "./scheduler.ts";
import { type AttemptResult, type StreamSlot, sendStreamedAttempt } from "./stream-turn.ts";

/** How long a connection with nothing to send waits before asking the scheduler again. */
const IDLE_WAIT_MS = 10;

/** What the streamed connections need to know of the run. */
export type StreamConnectionOptions = Pick<
  LoadOptions,
  | "url"
  | "hosts"
  | "token"
  | "connections"
  | "workers"
  | "timeoutSeconds"
  | "maxSeconds"
  | "onAnswer"
  | "streamWatch"
>;

type PlannedTurn = Extract<Planned, { kind: "turn" }>;

/**
 * The load's C connections when turns are streamed (autocannon cannot drop a response
 * mid-stream): one keep-alive agent of one socket each, so each stays on one worker as an
 * autocannon connection does, and the scheduler's hop holds. A connection learns its worker
 * (GET /healthz) whenever its socket is new, before it takes a turn. Stops once the scheduler
 * is done, or after `maxSeconds` (what is then in flight has an unknown outcome).
 */
export class StreamConnections {
  /** Every non-2xx answer to a turn attempt, in arrival order. */
  readonly errorAnswers: AttemptAnswerLog[] = [];
  /** Sticky mode: each conversation's closing read, over its own connection. */
  readonly stickyReads: FinalRead[] = [];
  /** Requests that were neither turns nor reads: GET /healthz to learn a connection's worker. */
  idleRequests = 0;
  finishedAt: number | undefined;
  private readonly stopRun = new AbortController();
  private wakeIdle: (() => void)[] = [];

  constructor(
    private readonly scheduler: TurnScheduler,
    private readonly options: StreamConnectionOptions,
    private readonly progress: TurnProgress,
  ) {
    // Every request, resume and lookup in flight listens to it: more than the default 10.
    setMaxListeners(0, this.stopRun.signal);
  }

  get finished(): boolean {
    return this.finishedAt !== undefined;
  }

  /** Drives every connection until the scheduler is done or the run's time is up. */
  async run(): Promise<void> {
    const hosts = this.options.hosts ?? [this.options.url];
    const slots = Array.from({ length: this.options.connections }, (_, index) => ({
      index,
      host: hosts[index % hosts.length] ?? this.options.url,
      agent: new Agent({ keepAlive: true, maxSockets: 1 }),
    }));
    const deadline = setTimeout(() => this.stop(), this.options.maxSeconds * 1000);
    try {
      await Promise.all(slots.map((slot) => this.drive(slot)));
    } finally {
      clearTimeout(deadline);
      for (const slot of slots) slot.agent.destroy();
    }
  }

  private get running(): boolean {
    return !this.finished && !this.stopRun.signal.aborted;
  }

  private stop(): void {
    this.stopRun.abort();
    this.wake();
  }

  private async drive(slot: StreamSlot): Promise<void> {
    while (this.running) {
      if (!(await this.knowsWorker(slot))) continue;
      const planned = this.running ? this.scheduler.next(slot.index, slot.worker) : undefined;
      if (!planned || planned.kind === "idle") await this.idle();
      else if (planned.kind === "turn") await this.sendTurn(slot, planned);
      else await this.read(slot, planned.conversationId);
      this.finishIfDone();
    }
  }

  /**
   * Whether the connection's worker is known: its socket is still open, or a /healthz over a
   * new one just said who answers. False after a failed probe (it waits a little first).
   */
  private async knowsWorker(slot: StreamSlot): Promise<boolean> {
    // A socket goes back to its agent's free list just after its response ended.
    await nextTurnOfLoop();
    if (slot.worker !== undefined && hasOpenSocket(slot.agent)) return true;
    this.idleRequests++;
    try {
      const res = await requestJson(`${slot.host}/healthz`, {
        agent: slot.agent,
        signal: this.stopRun.signal,
        timeoutMs: this.options.timeoutSeconds * 1000,
      });
      const servedBy = (res.body as Partial<HealthResponse>).servedBy;
      if (!servedBy) throw new Error(`GET /healthz answered ${res.status} without servedBy`);
      slot.hostname = servedBy.hostname;
      slot.worker = workerKey(servedBy);
      return true;
    } catch {
      slot.worker = undefined;
      await this.idle();
      return false;
    }
  }

  private async sendTurn(slot: StreamSlot, planned: PlannedTurn): Promise<void> {
    const watch = this.options.streamWatch;
    watch?.sent(planned.record.turnId, slot.worker);
    const result = await sendStreamedAttempt(slot, planned, {
      token: this.options.token,
      hosts: this.options.hosts ?? [this.options.url],
      timeoutMs: this.options.timeoutSeconds * 1000,
      resumeAttempts: this.options.workers > 1 ? Math.max(8, 4 * this.options.workers) : 1,
      signal: this.stopRun.signal,
      watch,
    });
    watch?.settled(planned.record.turnId);
    this.settle(planned, result);
  }

  private settle(planned: PlannedTurn, result: AttemptResult): void {
    if (planned.attempt === 0) this.progress.tick();
    const { turnId } = planned.record;
    if (result.kind === "lost") {
      this.scheduler.lost(turnId, result.why);
    } else {
      if (result.log.status < 200 || result.log.status >= 300) this.errorAnswers.push(result.log);
      this.scheduler.answered(turnId, result.answer);
      this.options.onAnswer?.(result.log);
    }
    this.wake();
  }

  /** Sticky mode: the conversation's closing read, over this connection. */
  private async read(slot: StreamSlot, conversationId: string): Promise<void> {
    try {
      const res = await requestJson(`${slot.host}/conversations/${conversationId}/messages`, {
        headers: { authorization: `Bearer ${this.options.token}` },
        agent: slot.agent,
        signal: this.stopRun.signal,
        timeoutMs: this.options.timeoutSeconds * 1000,
      });
      this.stickyReads.push(toFinalRead(conversationId, res.status, res.body));
      this.scheduler.readFinished(conversationId, res.status);
    } catch {
      slot.worker = undefined;
      this.scheduler.readFinished(conversationId);
    }
    this.wake();
  }

  /** Waits for another connection to settle something, or a short while (backoffs run on timers). */
  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, IDLE_WAIT_MS);
      this.wakeIdle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    const waiting = this.wakeIdle;
    this.wakeIdle = [];
    for (const resolve of waiting) resolve();
  }

  private finishIfDone(): void {
    // Stopped by maxSeconds: what it cut settles as unknown, but the run did not finish.
    if (!this.finished && !this.stopRun.signal.aborted && this.scheduler.done()) {
      this.finishedAt = now();
      this.wake();
    }
  }
}

/** The agent still holds an open socket: the next request goes to the same worker. */
function hasOpenSocket(agent: Agent): boolean {
  const pools = [...Object.values(agent.freeSockets), ...Object.values(agent.sockets)];
  return pools.some((sockets) => sockets?.some((socket) => !socket.destroyed));
}
