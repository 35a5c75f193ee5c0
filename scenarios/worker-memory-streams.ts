import type { StreamDone } from "../service/store/conversation-store.ts";
import {
  deltaData,
  errorData,
  isTerminal,
  type StreamError,
  type StreamEvent,
  type StreamProducer,
  type StreamRef,
  type TurnStreams,
} from "../service/streams/turn-streams.ts";

/** One turn's buffer: its events so far, and the readers waiting for the next one. */
interface Buffer {
  events: StreamEvent[];
  wake: Set<() => void>;
}

/**
 * THE BROKEN PATTERN: each turn's stream is an array in the memory of the worker that
 * produces it, with the readers of that worker woken as it grows; what popular
 * resumable-stream libraries do (they relay it to other processes over pub/sub while the
 * producer lives). A client that reconnects to another worker finds no stream there, and
 * when the producing worker dies the buffer dies with it.
 */
export class WorkerMemoryTurnStreams implements TurnStreams {
  readonly backend = "memory";
  private readonly buffers = new Map<string, Buffer>();

  constructor(private readonly ttlSeconds: number) {}

  producer(ref: StreamRef): StreamProducer {
    return new MemoryProducer(this.buffers, bufferKey(ref), this.ttlSeconds);
  }

  async follow(
    ref: StreamRef,
    afterId: number,
    signal: AbortSignal,
  ): Promise<AsyncIterable<StreamEvent> | undefined> {
    const buffer = this.buffers.get(bufferKey(ref));
    return buffer && readFrom(buffer, afterId, signal);
  }

  async close(): Promise<void> {}
}

function bufferKey({ key, turnId }: StreamRef): string {
  return `${key}\n${turnId}`;
}

async function* readFrom(buffer: Buffer, afterId: number, signal: AbortSignal) {
  let next = afterId;
  while (!signal.aborted) {
    const event = buffer.events.find((e) => e.id === next + 1);
    if (!event) {
      await nextEvent(buffer, signal);
      continue;
    }
    yield event;
    next = event.id;
    if (isTerminal(event)) return;
  }
}

function nextEvent(buffer: Buffer, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const wake = () => {
      buffer.wake.delete(wake);
      signal.removeEventListener("abort", wake);
      resolve();
    };
    buffer.wake.add(wake);
    signal.addEventListener("abort", wake);
  });
}

class MemoryProducer implements StreamProducer {
  nextId = 1;

  constructor(
    private readonly buffers: Map<string, Buffer>,
    private readonly key: string,
    private readonly ttlSeconds: number,
  ) {}

  async open(): Promise<void> {
    this.buffers.set(this.key, { events: [], wake: new Set() });
  }

  delta(text: string): void {
    this.add("delta", deltaData(text));
  }

  async flush(): Promise<void> {}

  /** Redis cannot write into a worker's memory: `finish` writes done. */
  doneWithCommit(): StreamDone | undefined {
    return undefined;
  }

  async finish(data: string): Promise<void> {
    this.add("done", data);
  }

  async fail(error: StreamError): Promise<void> {
    this.add("error", errorData(error));
  }

  private add(event: StreamEvent["event"], data: string): void {
    const buffer = this.buffers.get(this.key);
    if (!buffer) return;
    const added = { id: this.nextId++, event, data };
    buffer.events.push(added);
    for (const wake of [...buffer.wake]) wake();
    // A finished turn's buffer is kept for a while, then forgotten (unless a retry replaced it).
    if (isTerminal(added)) {
      const forget = () => this.buffers.get(this.key) === buffer && this.buffers.delete(this.key);
      setTimeout(forget, this.ttlSeconds * 1000).unref();
    }
  }
}
