import type { AppConfig } from "../config.ts";
import { StoreUnavailableError } from "../errors.ts";
import {
  conversationKeys,
  type StoreCommands,
  streamKeyOf,
  withStoreCommands,
} from "../store/commands.ts";
import type { RedisClient } from "../store/redis-client.ts";
import { readFromRedis } from "../store/redis-failures.ts";
import { BlockingReaders } from "./blocking-readers.ts";
import { RedisStreamProducer, type RedisStreamSettings } from "./redis-stream-producer.ts";
import {
  errorData,
  isTerminal,
  type StreamEvent,
  type StreamEventType,
  type StreamFence,
  type StreamProducer,
  type StreamRef,
  type TurnStreams,
} from "./turn-streams.ts";

/** How long one blocking read waits: under the client's 1 s command timeout. */
const BLOCK_MS = 500;
/** Events one read returns at most. */
const READ_COUNT = 200;

/** The streams' settings, and whether their producers hold a turn's lease (a turn gate). */
export interface RedisTurnStreamsOptions extends RedisStreamSettings {
  /**
   * True when every producer holds its turn's lease: a stream whose turn no longer holds it
   * and has no done event is then ended at once, with `turn_interrupted`. Without a gate
   * nothing tells a dead producer from a slow one: readers wait until the stream expires.
   */
  leased: boolean;
}

/** The settings from the app's configuration; `leased` when the app runs a turn gate. */
export function turnStreamSettings(config: AppConfig, leased: boolean): RedisTurnStreamsOptions {
  return {
    ttlSeconds: config.STREAM_TTL_SECONDS,
    flushMs: config.STREAM_FLUSH_MS,
    maxEvents: config.STREAM_MAX_EVENTS,
    leased,
  };
}

/** What a reader says when the producer is gone for good: the same event for every reader. */
const INTERRUPTED = errorData({
  code: "turn_interrupted",
  message:
    "the turn stopped before it finished (its worker went away): nothing of it was stored; send it again with the same turnId",
});

/**
 * Turns' streams in Redis Streams, one per turn (`<conversation key>:stream:<turnId>`, in the
 * conversation's hash slot), so any worker on any host can read any turn's events: entries
 * `0-1`, `0-2`, ... hold the events of the same ids. Producers append fenced by the turn's
 * lease (stream-append-2.lua); the done event is appended by the script that stores the turn
 * (append-turn-4.lua, checkpoint-put-8.lua, agents-session-add-5.lua). Readers wait with
 * XREAD BLOCK on a connection of their own; when nothing comes, stream-state-2.lua says
 * whether the producer is alive, and ends the stream of one that is not.
 */
export class RedisTurnStreams implements TurnStreams {
  readonly backend = "redis";
  private readonly redis: RedisClient & StoreCommands;
  private readonly readers: BlockingReaders;

  constructor(
    redis: RedisClient,
    private readonly options: RedisTurnStreamsOptions,
  ) {
    this.redis = withStoreCommands(redis) as RedisClient & StoreCommands;
    this.readers = new BlockingReaders(redis);
  }

  producer(ref: StreamRef, fence?: StreamFence): StreamProducer {
    return new RedisStreamProducer(
      this.redis,
      streamKeyOf(ref.key, ref.turnId),
      fence,
      this.options,
    );
  }

  async follow(
    ref: StreamRef,
    afterId: number,
    signal: AbortSignal,
    producing = false,
  ): Promise<AsyncIterable<StreamEvent> | undefined> {
    if (producing) return this.events(ref, afterId, signal, "wait");
    const state = await this.state(ref, false);
    if (state === "missing") return undefined;
    return this.events(ref, afterId, signal, state === "running" ? "wait" : "peek");
  }

  async close(): Promise<void> {
    this.readers.close();
  }

  /** Reads after `afterId` until a terminal event, waiting for new ones in between. */
  /** `mode`: "peek" reads what is there first; "wait" waits for events at once (a live turn). */
  private async *events(
    ref: StreamRef,
    afterId: number,
    signal: AbortSignal,
    mode: "peek" | "wait",
  ): AsyncGenerator<StreamEvent, void, undefined> {
    const key = streamKeyOf(ref.key, ref.turnId);
    const reader = await this.readers.acquire();
    let broken = false;
    let last = afterId;
    // Read what is there; when nothing is, ask whether to wait for more, or read a last time.
    let reading: "peek" | "wait" | "last" = mode;
    // Once the turn was seen running, its stream vanishing means its producer died first.
    let sawRunning = mode === "wait";
    try {
      while (!signal.aborted) {
        const events = await readAfter(
          reader,
          key,
          last,
          reading === "wait" ? BLOCK_MS : undefined,
        );
        for (const event of events) {
          // Trimmed away (STREAM_MAX_EVENTS), or a new attempt restarted the stream under it.
          if (event.id !== last + 1) {
            yield streamBroken(last + 1);
            return;
          }
          yield event;
          last = event.id;
          if (isTerminal(event)) return;
        }
        if (events.length > 0) continue;
        if (reading === "last") return;
        const state = await this.state(ref, sawRunning);
        if (state === "missing") return;
        sawRunning ||= state === "running";
        reading = state === "ended" ? "last" : "wait";
      }
    } catch (error) {
      broken = true;
      throw new StoreUnavailableError(error);
    } finally {
      this.readers.release(reader, broken);
    }
  }

  /** `sawRunning`: this reader saw the turn running, so a stream that is not there ended. */
  private state(ref: StreamRef, sawRunning: boolean) {
    const { ttlSeconds, leased } = this.options;
    return readFromRedis(() =>
      this.redis.streamState(
        streamKeyOf(ref.key, ref.turnId),
        conversationKeys(ref.key).lease,
        ref.turnId,
        leased ? "1" : "0",
        INTERRUPTED,
        ttlSeconds,
        sawRunning ? "1" : "0",
      ),
    );
  }
}

/** XREAD entries after id `after`, as events; waits up to `blockMs` when given. */
async function readAfter(
  reader: RedisClient,
  key: string,
  after: number,
  blockMs: number | undefined,
): Promise<StreamEvent[]> {
  const from = `0-${after}`;
  // The typed command: it gives [[key, entries]] whatever protocol (RESP3 replies a map).
  const reply =
    blockMs === undefined
      ? await reader.xread("COUNT", READ_COUNT, "STREAMS", key, from)
      : await reader.xread("COUNT", READ_COUNT, "BLOCK", blockMs, "STREAMS", key, from);
  return (reply?.[0]?.[1] ?? []).map(([id, fields]) => eventOf(id, fields));
}

function eventOf(id: string, fields: string[]): StreamEvent {
  const value = (name: string) => fields[fields.indexOf(name) + 1] ?? "";
  return {
    id: Number(id.slice(id.indexOf("-") + 1)),
    event: value("e") as StreamEventType,
    data: value("d"),
  };
}

/** The end of a stream a reader cannot follow on from where it was. */
function streamBroken(id: number): StreamEvent {
  const error = {
    code: "stream_broken",
    message: `event ${id} of this turn's stream is gone (trimmed, or the turn started again): read the turn's messages instead`,
  };
  return { id, event: "error", data: errorData(error) };
}
