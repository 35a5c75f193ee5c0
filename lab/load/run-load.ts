import { randomBytes } from "node:crypto";
import type { EventEmitter } from "node:events";
import autocannon from "autocannon";
import type { ServedBy, TurnResponse } from "../../service/contract.ts";
import { readHistories, toFinalRead } from "./final-reads.ts";
import { turnProgress } from "./progress.ts";
import type { AttemptOutcome, FinalRead, NoAnswer, RunRecord } from "./records.ts";
import { now, type Planned, type SchedulerOptions, TurnScheduler, workerKey } from "./scheduler.ts";

export interface LoadOptions {
  /** Base URL of the app, e.g. http://127.0.0.1:3001 */
  url: string;
  /**
   * Several hosts (replicas) of the same app: connections are spread over them, and each
   * conversation's turns hop across all of them, as behind a load balancer. Default: [url].
   */
  hosts?: string[];
  /** Bearer token the load test authenticates with. */
  token: string;
  conversations: number;
  turns: number;
  connections: number;
  /** Worker processes behind `url` (all hosts together); decides how many reads each history gets. */
  workers: number;
  sticky: boolean;
  /** Up to this many turns of one conversation in flight at once (1 = sequential). */
  overlap: number;
  /** Share of turns re-sent with the same turnId, as if the first answer was lost. */
  retryRate: number;
  /** Seed of the retry choices (random when absent; recorded in the result). */
  seed?: number;
  /** Seconds to wait for one answer before counting the turn's outcome unknown. */
  timeoutSeconds: number;
  /** Hard cap on the whole run, in seconds. */
  maxSeconds: number;
  /** Read every history back after the load (needed by the checker; benchmarks skip it). */
  readBack?: boolean;
  /** Show a progress bar of turns answered (on a terminal). */
  progress: boolean;
  /** Resend definite refusals (503 store_unavailable, 409 busy) later: see SchedulerOptions. */
  resendRefused?: SchedulerOptions["resendRefused"];
  /** Called after every answer to a turn attempt (lib/chaos uses it to time its faults). */
  onAnswer?: (answer: AttemptAnswerLog) => void;
}

/** One answer to one attempt of a turn, as the client saw it. */
export interface AttemptAnswerLog {
  turnId: string;
  status: number;
  /** The error code of a non-2xx JSON answer. */
  code?: string;
  outcome: AttemptOutcome;
  /** The worker that answered, when the answer names it. */
  servedBy?: ServedBy;
  /** When this attempt was sent and answered (the clock of `now()`). */
  sentAt: number;
  answeredAt: number;
  latencyMs: number;
}

export interface LoadResult extends RunRecord {
  runId: string;
  /** The retry choices' seed: pass it back (--seed) to repeat them. */
  seed: number;
  options: Omit<LoadOptions, "token">;
  durationMs: number;
  /** Requests sent while no conversation was ready (GET /healthz), not counted as turns. */
  idleRequests: number;
  /** True when the run hit `maxSeconds` before every conversation finished. */
  timedOut: boolean;
  /** Every non-2xx answer to a turn attempt, in arrival order (how fast did refusals come?). */
  errorAnswers: AttemptAnswerLog[];
}

/** One autocannon connection and what it has on the wire right now. */
interface Slot {
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

/**
 * Runs S conversations x T sequential turns over C keep-alive connections with autocannon,
 * handing turns out through one shared scheduler (see TurnScheduler), then reads every
 * history back. Returns every turn's record and every final read.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const runId = `run${randomBytes(4).toString("hex")}`;
  const seed = options.seed ?? randomBytes(4).readUInt32LE(0);
  const scheduler = new TurnScheduler({
    conversations: options.conversations,
    turnsPerConversation: options.turns,
    connections: options.connections,
    sticky: options.sticky,
    overlap: options.overlap,
    retryRate: options.retryRate,
    seed,
    runId,
    resendRefused: options.resendRefused,
  });
  const errorAnswers: AttemptAnswerLog[] = [];
  const stickyReads: FinalRead[] = [];
  const slots: Slot[] = [];
  let idleRequests = 0;
  let instance: autocannon.Instance | undefined;
  let finished = false;
  const progress = turnProgress(options.conversations * options.turns, options.progress);
  const started = now();
  let finishedAt: number | undefined;

  const finishIfDone = () => {
    if (!finished && scheduler.done()) {
      finished = true;
      finishedAt = now();
      instance?.stop();
    }
  };

  let liveSlots = options.connections;
  const shouldRetire = (index: number) =>
    options.sticky
      ? !scheduler.hasWorkFor(index)
      : // Keep a connection per worker so the last conversations can still hop.
        liveSlots > Math.max(scheduler.unfinished(), options.workers);

  const authorization = { authorization: `Bearer ${options.token}` };
  // Fresh headers on every request: autocannon writes Content-Length into the headers
  // object it is given, and a stale one on a later GET would swallow the next request.
  // A request that matters to nobody, for a connection with nothing to send.
  const idle = (base: autocannon.Request): autocannon.Request => ({
    ...base,
    method: "GET",
    path: "/healthz",
    headers: {},
    body: "",
  });
  const plan = (slot: Slot, index: number, base: autocannon.Request): autocannon.Request => {
    // A request still on the slot never got its answer (timeout or dropped connection).
    if (slot.retired) return idle(base);
    if (slot.planned.kind === "turn") {
      lostAttempt(slot.planned, slot.timedOut ? "timeout" : "connection-lost");
    }
    if (slot.planned.kind === "read") scheduler.readFinished(slot.planned.conversationId);
    slot.timedOut = false;
    if (slot.closing) {
      // autocannon writes this request into the socket the server is closing: send nothing
      // that matters; it plans again once it has reconnected.
      slot.closing = false;
      slot.planned = { kind: "idle" };
      return idle(base);
    }
    slot.planned = finished ? { kind: "idle" } : scheduler.next(index, slot.worker);
    slot.sentAt = now();
    const planned = slot.planned;
    if (planned.kind === "turn") {
      const { record } = planned;
      return {
        ...base,
        method: "POST",
        path: `/conversations/${record.conversationId}/turns`,
        headers: { ...authorization, "content-type": "application/json" },
        body: JSON.stringify({ text: record.text, turnId: record.turnId }),
      };
    }
    if (planned.kind === "read") {
      const path = `/conversations/${planned.conversationId}/messages`;
      return { ...base, method: "GET", path, headers: { ...authorization }, body: "" };
    }
    idleRequests++;
    if (shouldRetire(index)) {
      // Nothing will be ready for this connection: close it (after this last request is
      // written) rather than let it spin on /healthz.
      slot.retired = true;
      liveSlots--;
      queueMicrotask(() => (slot.client as autocannon.Client & { destroy(): void }).destroy());
    }
    queueMicrotask(finishIfDone);
    return idle(base);
  };

  const lostAttempt = (planned: Extract<Planned, { kind: "turn" }>, why?: NoAnswer) => {
    if (planned.attempt === 0) progress.tick();
    scheduler.lost(planned.record.turnId, why);
  };

  const settle = (slot: Slot, status: number, body: string, headers: Record<string, unknown>) => {
    const planned = slot.planned;
    slot.planned = { kind: "idle" };
    if (String(headers.connection ?? "").toLowerCase() === "close") slot.closing = true;
    const parsed = parseJson(body) as Partial<TurnResponse> | undefined;
    // Every answer (turn, read, /healthz) names its worker: remember who is behind this connection.
    if (parsed?.servedBy) slot.worker = workerKey(parsed.servedBy);
    if (planned.kind === "turn") {
      if (planned.attempt === 0) progress.tick();
      const answeredAt = now();
      const outcome = outcomeOf(status, parsed);
      const answer: AttemptAnswerLog = {
        turnId: planned.record.turnId,
        status,
        code: errorCodeOf(parsed),
        outcome,
        servedBy: parsed?.servedBy,
        sentAt: slot.sentAt,
        answeredAt,
        latencyMs: answeredAt - slot.sentAt,
      };
      if (status < 200 || status >= 300) errorAnswers.push(answer);
      scheduler.answered(planned.record.turnId, {
        outcome,
        status,
        answeredAt,
        latencyMs: answeredAt - planned.record.sentAt,
        servedBy: status === 200 ? parsed?.servedBy : undefined,
        messagesSeen: status === 200 ? parsed?.messagesSeen : undefined,
        historyLength: status === 200 ? parsed?.historyLength : undefined,
        reply: status === 200 ? parsed?.reply : undefined,
      });
      options.onAnswer?.(answer);
    } else if (planned.kind === "read") {
      stickyReads.push(toFinalRead(planned.conversationId, status, parsed));
      scheduler.readFinished(planned.conversationId, status);
    }
    finishIfDone();
  };

  await new Promise<void>((resolve, reject) => {
    instance = autocannon(
      {
        // autocannon spreads connections over several URLs (connection i -> url i mod n).
        url: (options.hosts ?? options.url) as string,
        connections: options.connections,
        pipelining: 1,
        duration: options.maxSeconds,
        timeout: options.timeoutSeconds,
        // Replaced per connection in setupClient; never sent.
        requests: [{ method: "GET", path: "/healthz" }],
        setupClient: (client) => {
          const slot: Slot = {
            planned: { kind: "idle" },
            client,
            retired: false,
            sentAt: now(),
            closing: false,
            timedOut: false,
          };
          // Emitted before autocannon reconnects and plans the next request (see plan()).
          // (@types/autocannon lists only "response" on a client; it emits "timeout" too.)
          (client as unknown as EventEmitter).on("timeout", () => {
            slot.timedOut = true;
          });
          const index = slots.push(slot) - 1;
          client.setRequests([
            {
              setupRequest: (base) => plan(slot, index, base),
              onResponse: (status, body, _context, headers) =>
                settle(slot, status, body, headers ?? {}),
            },
          ]);
        },
      },
      (error) => (error ? reject(error) : resolve()),
    );
  });

  progress.stop();
  // Whatever is still on the wire when the run stops has an unknown outcome.
  for (const slot of slots) {
    if (slot.planned.kind === "turn") lostAttempt(slot.planned);
  }
  // autocannon notices stopped clients on its next 1 s tick; time the turns, not that.
  const durationMs = (finishedAt ?? now()) - started;
  const reads =
    options.readBack === false
      ? []
      : options.sticky
        ? stickyReads
        : await readFromHosts(options, scheduler.conversationIds);

  const { token: _token, ...publicOptions } = options;
  return {
    runId,
    seed,
    options: publicOptions,
    turns: scheduler.records,
    reads,
    workersExpected: options.workers,
    durationMs,
    idleRequests,
    timedOut: !finished,
    errorAnswers,
  };
}

/** Every conversation read from every host, enough times to reach each of its workers. */
async function readFromHosts(
  options: LoadOptions,
  conversationIds: string[],
): Promise<FinalRead[]> {
  const hosts = options.hosts ?? [options.url];
  const perHost = readsPerConversation(Math.ceil(options.workers / hosts.length));
  const reads: FinalRead[] = [];
  for (const host of hosts) {
    reads.push(...(await readHistories(host, options.token, conversationIds, perHost)));
  }
  return reads;
}

/** Enough fresh connections to go round every worker twice. */
export function readsPerConversation(workers: number): number {
  return Math.max(2, workers * 2);
}

function errorCodeOf(body: unknown): string | undefined {
  return (body as { error?: { code?: string } } | undefined)?.error?.code;
}

function outcomeOf(status: number, body: unknown): AttemptOutcome {
  if (status >= 200 && status < 300) return "ok";
  const code = errorCodeOf(body);
  // A retry meeting its own first attempt still running: says nothing about the turn.
  if (status === 409 && code === "turn_in_progress") return "conflict";
  if (status >= 400 && status < 500) return "failed";
  // By contract a 503 "store_unavailable" stored nothing; "store_write_uncertain" may have.
  if (status === 503 && code === "store_unavailable") return "failed";
  return "unknown";
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
