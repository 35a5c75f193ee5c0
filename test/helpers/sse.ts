import { request } from "node:http";
import { createParser, type EventSourceMessage } from "eventsource-parser";

/** What a test read of an event stream got: the answer's status and worker, and its events. */
export interface StreamRead {
  status: number;
  contentType: string;
  workerId: number;
  events: EventSourceMessage[];
  /** The body as text when it was not an event stream (a JSON error). */
  body: string;
  /** True when the test cut the connection (after `dropAfter` deltas). */
  dropped: boolean;
}

export interface StreamRequest {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Cut the connection once this many delta events have arrived. */
  dropAfter?: number;
}

/**
 * One request on a fresh connection (so the cluster hands it to the next worker), its
 * server-sent events parsed with eventsource-parser as they arrive.
 */
export function readStream(url: string, options: StreamRequest = {}): Promise<StreamRead> {
  return new Promise((resolve, reject) => {
    const events: EventSourceMessage[] = [];
    let body = "";
    const req = request(url, {
      method: options.method ?? "GET",
      headers: options.headers,
      agent: false,
    });
    req.on("error", reject);
    req.on("response", (res) => {
      const read = (dropped: boolean): StreamRead => ({
        status: res.statusCode ?? 0,
        contentType: String(res.headers["content-type"] ?? ""),
        workerId: Number(res.headers["x-worker-id"]),
        events,
        body,
        dropped,
      });
      const parser = createParser({
        onEvent: (event) => {
          events.push(event);
          const deltas = events.filter((e) => e.event === "delta").length;
          if (options.dropAfter !== undefined && deltas >= options.dropAfter) {
            res.destroy();
            resolve(read(true));
          }
        },
      });
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
        parser.feed(chunk);
      });
      res.on("end", () => resolve(read(false)));
      res.on("error", () => resolve(read(true)));
    });
    req.end(options.body);
  });
}

/** The deltas' text, joined: what the client shows as the reply. */
export function joinedText(events: readonly EventSourceMessage[]): string {
  return events
    .filter((e) => e.event === "delta")
    .map((e) => (JSON.parse(e.data) as { text: string }).text)
    .join("");
}

/** The events' ids, as numbers. */
export function idsOf(events: readonly EventSourceMessage[]): number[] {
  return events.map((e) => Number(e.id));
}
