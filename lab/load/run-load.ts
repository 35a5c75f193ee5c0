import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { LoadConnections } from "./connections.ts";
import { driveAutocannon } from "./drive-autocannon.ts";
import { readFromHosts } from "./final-reads.ts";
import type { LoadOptions } from "./load-options.ts";
import { type TurnProgress, turnProgress } from "./progress.ts";
import type { AttemptAnswerLog, FinalRead, RunRecord } from "./records.ts";
import { now, TurnScheduler } from "./scheduler.ts";
import { StreamConnections } from "./stream-connections.ts";

export { readsPerConversation } from "./final-reads.ts";
export type { LoadOptions } from "./load-options.ts";
export type { AttemptAnswerLog } from "./records.ts";

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

/** What run-load reads from the connections that sent the turns, autocannon's or streamed. */
type Senders = Pick<
  LoadConnections,
  "errorAnswers" | "stickyReads" | "idleRequests" | "finishedAt" | "finished"
>;

/**
 * Runs S conversations x T sequential turns over C keep-alive connections with autocannon
 * (streamed turns: over node:http, see StreamConnections), handing turns out through one
 * shared scheduler (see TurnScheduler), then reads every history back. Returns every turn's
 * record and every final read.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const runId = `run${randomBytes(4).toString("hex")}`;
  const seed = options.seed ?? randomBytes(4).readUInt32LE(0);
  const scheduler = buildScheduler(options, runId, seed);
  const progress = turnProgress(options.conversations * options.turns, options.progress);
  const started = now();

  const connections = await sendTurns(options, scheduler, progress);

  progress.stop();
  // autocannon notices stopped clients on its next 1 s tick; time the turns, not that.
  const durationMs = (connections.finishedAt ?? now()) - started;
  const reads = await finalReads(options, scheduler, connections);
  return assembleResult(options, { runId, seed, scheduler, connections, durationMs, reads });
}

/** Every turn sent and settled: streamed over node:http, or with autocannon. */
async function sendTurns(
  options: LoadOptions,
  scheduler: TurnScheduler,
  progress: TurnProgress,
): Promise<Senders> {
  if (options.stream) {
    const streamed = new StreamConnections(scheduler, options, progress);
    await streamed.run();
    return streamed;
  }
  const connections = new LoadConnections(scheduler, options, progress);
  await driveAutocannon(options, connections);
  connections.abandonInFlight();
  return connections;
}

/** The one scheduler every connection of the run takes its turns and reads from. */
function buildScheduler(options: LoadOptions, runId: string, seed: number): TurnScheduler {
  return new TurnScheduler({
    conversations: options.conversations,
    turnsPerConversation: options.turns,
    connections: options.connections,
    sticky: options.sticky,
    overlap: options.overlap,
    retryRate: options.retryRate,
    seed,
    runId,
    resendRefused: options.resendRefused,
    // Only a streamed turn can be dropped mid-answer and resumed.
    disconnect: options.stream ? options.disconnect : undefined,
  });
}

/**
 * The histories the checker compares: none when read-back is off; in sticky mode the read
 * each conversation made over its own connection; else fresh reads from every host.
 */
async function finalReads(
  options: LoadOptions,
  scheduler: TurnScheduler,
  connections: Senders,
): Promise<FinalRead[]> {
  if (options.readBack === false) return [];
  if (options.sticky) return connections.stickyReads;
  if (options.readAfterMs) await sleep(options.readAfterMs);
  return readFromHosts(options, scheduler.conversationIds);
}

interface FinishedRun {
  runId: string;
  seed: number;
  scheduler: TurnScheduler;
  connections: Senders;
  durationMs: number;
  reads: FinalRead[];
}

/** The run's result: its options without the token, every turn's record, every read. */
function assembleResult(options: LoadOptions, run: FinishedRun): LoadResult {
  const { token: _token, ...publicOptions } = options;
  return {
    runId: run.runId,
    seed: run.seed,
    options: publicOptions,
    turns: run.scheduler.records,
    reads: run.reads,
    workersExpected: options.workers,
    turnLimitPerMinute: options.turnLimitPerMinute,
    stream: options.stream === true,
    disconnectRate: options.stream ? (options.disconnect?.rate ?? 0) : 0,
    durationMs: run.durationMs,
    idleRequests: run.connections.idleRequests,
    timedOut: !run.connections.finished,
    errorAnswers: run.connections.errorAnswers,
  };
}
