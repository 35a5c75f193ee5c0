import type { Response } from "express";
import type { ChatService, Turn, TurnResult } from "../chat/chat-service.ts";
import type { ServiceMetrics } from "../metrics/service-metrics.ts";
import {
  isTerminal,
  type StreamError,
  type StreamProducer,
  type StreamRef,
  type TurnStreams,
} from "../streams/turn-streams.ts";
import { type LeasedConversationStore, turnRecordOf } from "../turns/leased-store.ts";
import type { GateOutcome, TurnGate } from "../turns/turn-gate.ts";
import { noteAnswer } from "./count-turns.ts";
import { errorBodyOf, reportError } from "./error-handler.ts";
import {
  endWithError,
  STREAM_READ_FAILED,
  sendEvents,
  startEventStream,
  whileConnected,
  writeEvent,
} from "./sse.ts";
import { answerOf, replayed } from "./turn-answer.ts";

export interface StreamedTurnOptions {
  service: ChatService;
  turnGate?: TurnGate;
  streams: TurnStreams;
  contextWindow: number;
  metrics: ServiceMetrics;
}

/** How a streamed turn went: as the gate says (or ran, without a gate), or failed once streaming. */
export type StreamedOutcome =
  | GateOutcome<TurnResult>
  | { ran: true; value: TurnResult; waitedMs?: undefined }
  | { ran: false; failed: StreamError; waitedMs?: undefined };

/**
 * `POST .../turns` with `Accept: text/event-stream`. The turn runs as any other (under its
 * lease with a turn gate), and writes its reply to its stream as the model writes it. Once the
 * stream is open the response starts and sends what the stream holds, as any reader of it
 * does: a client that reconnects elsewhere reads the same events. A refusal before that is
 * the usual JSON error (thrown); the client going away does not stop the turn.
 */
export async function answerStreamedTurn(
  res: Response,
  turn: Turn,
  options: StreamedTurnOptions,
): Promise<StreamedOutcome> {
  const run = new StreamedRun(turn, options);
  const settled = run.start();
  const opened = await Promise.race([run.opened, settled.then(notOpened, notOpened)]);
  if (!opened) {
    // A refusal rejects here, before any header: the error handler answers it as JSON.
    const outcome = await settled;
    await replayStream(res, turn, options);
    return outcome;
  }
  startEventStream(res);
  const last = await followToEnd(res, run.ref, options.streams);
  if (last && isTerminal(last)) res.end();
  const outcome = await settled.then(
    (ran): StreamedOutcome => ran,
    (error: unknown): StreamedOutcome => {
      const { code, message } = reportError(error, options.metrics);
      noteAnswer(res, { errorCode: code });
      return { ran: false, failed: { code, message } };
    },
  );
  // The stream did not hold its end (the store failed): this client still gets one.
  const end = "failed" in outcome ? outcome.failed : STREAM_READ_FAILED;
  endWithError(res, run.nextId, end);
  return outcome;
}

const notOpened = () => false;

/** One streamed turn's run: its producer, opened once the turn may run. */
class StreamedRun {
  readonly ref: StreamRef;
  readonly opened: Promise<true>;
  private open: () => void = () => {};
  private producer: StreamProducer | undefined;

  constructor(
    private readonly turn: Turn,
    private readonly options: StreamedTurnOptions,
  ) {
    this.ref = { key: turn.key, turnId: turn.turnId };
    this.opened = new Promise((resolve) => {
      this.open = () => resolve(true);
    });
  }

  /** The id the stream's next event would get: for an error this response writes itself. */
  get nextId(): number {
    return this.producer?.nextId ?? 1;
  }

  start(): Promise<GateOutcome<TurnResult> | { ran: true; value: TurnResult }> {
    const { turnGate, streams } = this.options;
    if (!turnGate) {
      return this.produce(streams.producer(this.ref)).then((value) => ({ ran: true, value }));
    }
    return turnGate.run(this.turn.key, this.turn.turnId, (leased) => {
      const { leaseKey, holder } = turnRecordOf(leased.lease);
      return this.produce(streams.producer(this.ref, { leaseKey, holder }), leased);
    });
  }

  /**
   * Opens the stream, runs the turn with its deltas going to it, then stores the turn with
   * its done event: in one script under a lease (its writes held until then), else after it.
   */
  private async produce(producer: StreamProducer, leased?: LeasedConversationStore) {
    this.producer = producer;
    await producer.open();
    this.open();
    leased?.holdWrites();
    try {
      const onDelta = (text: string) => producer.delta(text);
      const result = await this.options.service.handleTurn({ ...this.turn, onDelta }, leased);
      await producer.flush();
      const data = JSON.stringify(answerOf(this.turn, result));
      const done = producer.doneWithCommit(data);
      const committed = leased ? await leased.commit(done) : false;
      if (!done || !committed) await producer.finish(data);
      return result;
    } catch (error) {
      // Best effort: the store may be what failed. The response then writes it itself.
      await producer.fail(errorBodyOf(error)).catch(() => {});
      throw error;
    }
  }
}

/** Sends the turn's stream from its start until it ends, or the client goes away. */
async function followToEnd(res: Response, ref: StreamRef, streams: TurnStreams) {
  try {
    const events = await streams.follow(ref, 0, whileConnected(res), true);
    return events && (await sendEvents(res, events)).last;
  } catch {
    return undefined;
  }
}

/**
 * A repeated turnId whose turn is already stored: its stream as it was, while the stream is
 * kept; after that (or for a turn that was not streamed) its stored answer as one delta and done.
 */
async function replayStream(res: Response, turn: Turn, options: StreamedTurnOptions) {
  noteAnswer(res, { replayed: true });
  const ref = { key: turn.key, turnId: turn.turnId };
  const events = await options.streams.follow(ref, 0, whileConnected(res));
  if (!events) {
    const answer = replayed(turn, await options.service.history(turn), options.contextWindow);
    startEventStream(res);
    writeEvent(res, { id: 1, event: "delta", data: JSON.stringify({ text: answer.reply }) });
    writeEvent(res, { id: 2, event: "done", data: JSON.stringify(answer) });
    res.end();
    return;
  }
  startEventStream(res);
  const { last, readFailed } = await sendEvents(res, events);
  if (readFailed) endWithError(res, (last?.id ?? 0) + 1, STREAM_READ_FAILED);
  else res.end();
}
