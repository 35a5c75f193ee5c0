import { setTimeout as sleep } from "node:timers/promises";
import { TurnFencedError } from "../errors.ts";
import type { StoreCommands } from "../store/commands.ts";
import type { StreamDone } from "../store/conversation-store.ts";
import { writeToRedis } from "../store/redis-failures.ts";
import {
  deltaData,
  errorData,
  type StreamError,
  type StreamEventType,
  type StreamFence,
  type StreamProducer,
} from "./turn-streams.ts";

/** How a turn's stream is kept in Redis (STREAM_TTL_SECONDS, STREAM_FLUSH_MS, STREAM_MAX_EVENTS). */
export interface RedisStreamSettings {
  /** The stream stays readable this long after its last event, in seconds. */
  ttlSeconds: number;
  /** Deltas go out at most once per this many ms (0: as soon as the previous write is done). */
  flushMs: number;
  /** The stream keeps at most this many events. */
  maxEvents: number;
}

/** An event as stream-append-2.lua takes it: id, type, data. */
type Entry = [id: number, event: StreamEventType, data: string];

/**
 * One attempt of a turn writing its stream in Redis (stream-append-2.lua), fenced by the
 * turn's lease when it has one. Deltas are queued and written in order, one script call per
 * batch: what arrived while the previous write was out goes in the next one. A write that
 * fails stops the stream; `flush` reports it.
 */
export class RedisStreamProducer implements StreamProducer {
  nextId = 1;
  private queue: Entry[] = [];
  private writing: Promise<void> | undefined;
  private failure: unknown;
  /** When the last batch of deltas went out: the next waits until STREAM_FLUSH_MS after it. */
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  /** Set by flush(): the reply is complete, so nothing more is worth waiting for. */
  private finishing = false;
  private hurry: (() => void) | undefined;

  constructor(
    private readonly redis: StoreCommands,
    private readonly key: string,
    private readonly fence: StreamFence | undefined,
    private readonly settings: RedisStreamSettings,
  ) {}

  async open(): Promise<void> {
    await this.write([], true);
  }

  delta(text: string): void {
    if (this.failure) return;
    this.queue.push([this.nextId++, "delta", deltaData(text)]);
    this.writing ??= this.drain();
  }

  async flush(): Promise<void> {
    this.finishing = true;
    this.hurry?.();
    await this.writing;
    if (this.failure) throw this.failure;
  }

  doneWithCommit(data: string): StreamDone {
    // Not taken yet: if the commit fails, the error event gets this id.
    return { key: this.key, id: this.nextId, data, ttlSeconds: this.settings.ttlSeconds };
  }

  async finish(data: string): Promise<void> {
    await this.flush();
    await this.write([[this.nextId++, "done", data]]);
  }

  async fail(error: StreamError): Promise<void> {
    await this.writing;
    await this.write([[this.nextId++, "error", errorData(error)]]);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        // The first delta goes at once (time to first word), the last ones once the reply is
        // complete; in between, a write at most once per flushMs.
        const wait = this.lastFlushAt + this.settings.flushMs - performance.now();
        if (wait > 0 && !this.finishing) await this.pause(wait);
        this.lastFlushAt = performance.now();
        await this.write(this.queue.splice(0));
      }
    } catch (error) {
      this.failure = error;
      this.queue = [];
    } finally {
      this.writing = undefined;
    }
  }

  /** Waits `ms`, or less if flush() asks for everything now. */
  private async pause(ms: number): Promise<void> {
    const hurried = new Promise<void>((resolve) => {
      this.hurry = resolve;
    });
    await Promise.race([sleep(ms, undefined, { ref: false }), hurried]);
    this.hurry = undefined;
  }

  private async write(entries: Entry[], reset = false): Promise<void> {
    const { ttlSeconds, maxEvents } = this.settings;
    const written = await writeToRedis(() =>
      this.redis.streamAppend(
        this.key,
        this.fence?.leaseKey ?? this.key,
        this.fence?.holder ?? "",
        reset ? "1" : "0",
        ttlSeconds,
        maxEvents,
        ...entries.flat(),
      ),
    );
    if (written === -1) throw new TurnFencedError("lease_lost");
  }
}
