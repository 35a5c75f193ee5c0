import type { Agent } from "node:http";
import {
  type AnswerBody,
  attemptAnswerLog,
  parseAnswerBody,
  streamAnswerLog,
  turnAnswer,
} from "./answers.ts";
import type { AttemptAnswerLog, NoAnswer, TurnRecord, TurnStream } from "./records.ts";
import { type AttemptAnswer, now, type Planned } from "./scheduler.ts";
import { requestEvents, type SseAnswer } from "./sse-request.ts";
import { lookUpTurn } from "./stream-lookup.ts";
import { resumeElsewhere } from "./stream-resume.ts";

/** One load connection of a streamed run: a keep-alive agent holding one socket to one worker. */
export interface StreamSlot {
  index: number;
  /** The base URL this connection talks to. */
  host: string;
  agent: Agent;
  /** The host label its workers answer with (`servedBy.hostname`), learned from /healthz. */
  hostname?: string;
  /** The worker behind the connection's socket (see workerKey); undefined until known. */
  worker?: string;
}

/**
 * Told how each streamed attempt goes, as it goes: lab/chaos strikes a worker while it is
 * producing replies with it. Attempts are named by their turnId (one in flight per turn).
 */
export interface StreamWatch {
  /** The attempt went out over a connection to `worker` (see workerKey), when known. */
  sent(turnId: string, worker: string | undefined): void;
  /** Its first response has brought `deltas` deltas so far. */
  delta(turnId: string, deltas: number): void;
  /** The attempt is over: answered, or its fate unknown. */
  settled(turnId: string): void;
}

/** What a streamed attempt needs of the run. */
export interface StreamTurnContext {
  token: string;
  hosts: readonly string[];
  timeoutMs: number;
  /** Fresh connections a resume tries to reach another worker than the producer. */
  resumeAttempts: number;
  signal: AbortSignal;
  watch?: StreamWatch;
}

/** An attempt's answer for the scheduler, or none (its fate unknown). */
export type AttemptResult =
  | { kind: "answered"; log: AttemptAnswerLog; answer: AttemptAnswer }
  | { kind: "lost"; why?: NoAnswer };

type PlannedTurn = Extract<Planned, { kind: "turn" }>;

/**
 * One attempt of a turn asked for as a stream: POST with `Accept: text/event-stream` over the
 * slot's connection, dropped after `dropAfter` deltas when planned so, then resumed on another
 * worker; a stream that never reaches its end is looked up in the history (see lookUpTurn).
 * An answer that is not a stream (a refusal before it started) is read as JSON, as ever.
 */
export async function sendStreamedAttempt(
  slot: StreamSlot,
  planned: PlannedTurn,
  context: StreamTurnContext,
): Promise<AttemptResult> {
  const { record } = planned;
  const sentAt = now();
  const first = await requestEvents({
    url: `${slot.host}/conversations/${record.conversationId}/turns`,
    method: "POST",
    headers: turnHeaders(context.token),
    body: JSON.stringify({ text: record.text, turnId: record.turnId }),
    agent: slot.agent,
    timeoutMs: context.timeoutMs,
    signal: context.signal,
    dropAfter: planned.dropAfter,
    onDelta: (deltas) => context.watch?.delta(record.turnId, deltas),
  });
  learnWorker(slot, first);
  if (first.status === undefined) return lostAttempt(first);
  if (!first.eventStream) return jsonAttempt(record, first.status, first.body, sentAt);
  const stream = streamOf(slot, planned, first);
  record.streams = [...(record.streams ?? []), stream];
  const cutByRun = first.cut === "run-stopped";
  const end = first.end ?? (cutByRun ? undefined : await resume(stream, slot, record, context));
  settleStream(stream, end);
  // The run stopped first: the turn's fate is unknown, and its stream proves nothing.
  if (context.signal.aborted && !end) return { kind: "lost" };
  return streamedAttempt(slot, record, stream, sentAt, context);
}

function turnHeaders(token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    accept: "text/event-stream",
  };
}

/** The connection's worker, from the answer's headers (its socket may be new). */
function learnWorker(slot: StreamSlot, answer: SseAnswer): void {
  if (answer.worker && slot.hostname !== undefined) {
    slot.worker = `${slot.hostname}:${answer.worker.pid}`;
  }
}

function lostAttempt(answer: SseAnswer): AttemptResult {
  if (answer.cut === "timeout") return { kind: "lost", why: "timeout" };
  return { kind: "lost", why: answer.cut === "run-stopped" ? undefined : "connection-lost" };
}

/** A refusal before the stream started (or an app that does not stream): the usual JSON. */
function jsonAttempt(record: TurnRecord, status: number, text = "", sentAt: number): AttemptResult {
  const body: AnswerBody = parseAnswerBody(text);
  const log = attemptAnswerLog(record.turnId, status, body, sentAt, now());
  return { kind: "answered", log, answer: turnAnswer(log, body, record.sentAt) };
}

function streamOf(slot: StreamSlot, planned: PlannedTurn, first: SseAnswer): TurnStream {
  const stream: TurnStream = { attempt: planned.attempt, events: first.events, resumes: [] };
  if (first.worker) stream.producer = { ...first.worker, hostname: slot.hostname ?? "" };
  if (first.cut) stream.cut = first.cut;
  if (first.cut === "dropped") stream.droppedAfter = planned.dropAfter;
  return stream;
}

/** Resumes the cut stream after the last event received; its end, if it got one. */
async function resume(
  stream: TurnStream,
  slot: StreamSlot,
  record: TurnRecord,
  context: StreamTurnContext,
): Promise<SseAnswer["end"]> {
  const { resume, answer } = await resumeElsewhere({
    hosts: context.hosts,
    producerHost: slot.host,
    producer: stream.producer,
    path: `/conversations/${record.conversationId}/turns/${record.turnId}/stream`,
    token: context.token,
    lastEventId: stream.events.at(-1)?.id ?? 0,
    maxAttempts: context.resumeAttempts,
    timeoutMs: context.timeoutMs,
    signal: context.signal,
  });
  stream.resumes.push(resume);
  return answer.end;
}

/** done's data or the error event's, on the stream's record. */
function settleStream(stream: TurnStream, end: SseAnswer["end"]): void {
  if (end?.type === "done") stream.done = (end.data ?? {}) as TurnStream["done"];
  if (end?.type === "error") {
    stream.error = (end.data as { error?: TurnStream["error"] } | undefined)?.error ?? {};
  }
}

/** The attempt as the scheduler sees it; a stream without its end is looked up first. */
async function streamedAttempt(
  slot: StreamSlot,
  record: TurnRecord,
  stream: TurnStream,
  sentAt: number,
  context: StreamTurnContext,
): Promise<AttemptResult> {
  const log = streamAnswerLog(record.turnId, stream, sentAt, now());
  const answer = turnAnswer(log, stream.done, record.sentAt);
  if (stream.done || stream.error) return { kind: "answered", log, answer };
  const { token, timeoutMs, signal } = context;
  const { conversationId, turnId } = record;
  stream.lookedUp = await lookUpTurn({
    host: slot.host,
    token,
    conversationId,
    turnId,
    timeoutMs,
    signal,
  });
  if (signal.aborted) return { kind: "lost" };
  if (stream.lookedUp.found && stream.producer) {
    answer.storedAfterBreak = { worker: `${stream.producer.hostname}:${stream.producer.pid}` };
  }
  return { kind: "answered", log, answer };
}
