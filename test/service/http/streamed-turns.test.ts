import { EventSource } from "eventsource";
import type { EventSourceMessage } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueToken } from "../../../service/auth/tokens.ts";
import type { ChatMessage, TurnResponse } from "../../../service/contract.ts";
import { type FixedApp, startFixedApp } from "../../helpers/fixed-app.ts";
import { client } from "../../helpers/http.ts";
import { idsOf, joinedText, readStream } from "../../helpers/sse.ts";

const SECRET = "streamed-turns-test-secret";
const WORKERS = 4;

describe("streamed turns (Accept: text/event-stream) on a 4-worker fixed app", () => {
  let fixed: FixedApp;
  let url: string;
  const token = issueToken({ tenant: "acme", user: "ann" }, SECRET);
  const auth = { authorization: `Bearer ${token}` };
  let n = 0;
  const conversation = () => `streamed-${n++}`;

  const streamTurn = (conversationId: string, text: string, turnId: string, dropAfter?: number) =>
    readStream(`${url}/conversations/${conversationId}/turns`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ text, turnId }),
      dropAfter,
    });
  const resume = (conversationId: string, turnId: string, lastEventId?: number) =>
    readStream(`${url}/conversations/${conversationId}/turns/${turnId}/stream`, {
      headers: {
        ...auth,
        ...(lastEventId === undefined ? {} : { "last-event-id": `${lastEventId}` }),
      },
    });
  const stored = async (conversationId: string): Promise<ChatMessage[]> =>
    ((await client(url, token).messages(conversationId)).body as { messages: ChatMessage[] })
      .messages;
  const doneOf = (events: EventSourceMessage[]) =>
    JSON.parse(events.find((e) => e.event === "done")?.data ?? "null") as TurnResponse;

  beforeAll(async () => {
    // Slow enough that a client dropping after 2 words resumes while the turn still runs.
    fixed = await startFixedApp({
      workers: WORKERS,
      env: { AUTH_SECRET: SECRET, AGENT_CHUNK_DELAY_MS: "20", LOG_LEVEL: "silent" },
    });
    url = fixed.app.url;
  });

  afterAll(async () => {
    await fixed?.stop();
  });

  it("answers deltas with ids 1, 2, 3, ... then done; joined, they are done's reply and the stored one", async () => {
    const id = conversation();
    const read = await streamTurn(id, "Hi, my name is Ada.", "s1");
    expect(read.status).toBe(200);
    expect(read.contentType).toMatch(/^text\/event-stream/);
    const ids = idsOf(read.events);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(read.events.slice(0, -1).every((e) => e.event === "delta")).toBe(true);
    expect(read.events.length).toBeGreaterThan(3);
    const done = doneOf(read.events);
    expect(read.events.at(-1)?.event).toBe("done");
    expect(done).toMatchObject({
      conversationId: id,
      turnId: "s1",
      messagesSeen: 1,
      historyLength: 0,
    });
    expect(joinedText(read.events)).toBe(done.reply);
    const messages = await stored(id);
    expect(messages.map((m) => [m.role, m.turnId])).toEqual([
      ["user", "s1"],
      ["assistant", "s1"],
    ]);
    expect(messages[1]?.content).toBe(done.reply);
  });

  it("a client that drops after 2 deltas resumes on another worker and gets exactly the rest", async () => {
    const id = conversation();
    const first = await streamTurn(id, "Tell me something.", "s1", 2);
    expect(first.dropped).toBe(true);
    expect(idsOf(first.events)).toEqual([1, 2]);
    // Fresh connections until one lands on another worker than the producer's.
    let rest = await resume(id, "s1", 2);
    for (let tries = 0; rest.workerId === first.workerId && tries < 2 * WORKERS; tries++) {
      rest = await resume(id, "s1", 2);
    }
    expect(rest.workerId).not.toBe(first.workerId);
    expect(rest.status).toBe(200);
    const ids = idsOf(rest.events);
    expect(ids[0]).toBe(3);
    expect(ids).toEqual(ids.map((_, i) => i + 3));
    const all = [...first.events, ...rest.events];
    expect(joinedText(all)).toBe(doneOf(rest.events).reply);
    // The turn is stored once, and a replay of the finished stream gives the same text.
    expect((await stored(id)).map((m) => m.turnId)).toEqual(["s1", "s1"]);
    const replay = await resume(id, "s1");
    expect(idsOf(replay.events)).toEqual(idsOf(all));
    expect(joinedText(replay.events)).toBe(joinedText(all));
  });

  it("a standard EventSource client follows the stream, reconnects with Last-Event-ID, and gets each event once", async () => {
    const id = conversation();
    // The turn starts; its client goes at once. The turn runs on.
    const started = await streamTurn(id, "Hello there.", "s1", 1);
    expect(started.status).toBe(200);
    let connections = 0;
    const lastEventIds: (string | null)[] = [];
    const source = new EventSource(`${url}/conversations/${id}/turns/s1/stream`, {
      // The client library's own fetch, with the token, cutting its first connection after 2 events.
      fetch: async (input, init) => {
        connections++;
        lastEventIds.push(new Headers(init?.headers).get("last-event-id"));
        const response = await fetch(input, { ...init, headers: { ...init?.headers, ...auth } });
        return connections === 1 ? cutAfter(response, 2) : response;
      },
    });
    const events = await collect(source);
    expect(connections).toBe(2);
    // The second connection asks for what follows the last event the first one delivered.
    expect(lastEventIds[0]).toBeNull();
    expect(Number(lastEventIds[1])).toBeGreaterThanOrEqual(2);
    const ids = events.map((e) => Number(e.lastEventId));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    const done = JSON.parse(events.at(-1)?.data ?? "{}") as TurnResponse;
    const text = events
      .slice(0, -1)
      .map((e) => (JSON.parse(e.data) as { text: string }).text)
      .join("");
    expect(text).toBe(done.reply);
  });

  it("refuses before the stream starts with the usual JSON errors", async () => {
    const id = conversation();
    const headers = { "content-type": "application/json", accept: "text/event-stream" };
    const noToken = await readStream(`${url}/conversations/${id}/turns`, {
      method: "POST",
      headers,
      body: JSON.stringify({ text: "hi" }),
    });
    expect(noToken.status).toBe(401);
    expect(JSON.parse(noToken.body).error.code).toBe("unauthorized");
    const blank = await readStream(`${url}/conversations/${id}/turns`, {
      method: "POST",
      headers: { ...headers, ...auth },
      body: JSON.stringify({ text: "  " }),
    });
    expect(blank.status).toBe(400);
    expect(blank.contentType).toMatch(/^application\/json/);
    expect(await stored(id)).toEqual([]);
  });

  it("the stream route: 404 for a turn never streamed or another user's, 400 for a bad Last-Event-ID", async () => {
    const id = conversation();
    await streamTurn(id, "mine", "s1");
    expect((await resume(id, "never")).status).toBe(404);
    const other = issueToken({ tenant: "acme", user: "bob" }, SECRET);
    const theirs = await readStream(`${url}/conversations/${id}/turns/s1/stream`, {
      headers: { authorization: `Bearer ${other}` },
    });
    expect(theirs.status).toBe(404);
    const bad = await readStream(`${url}/conversations/${id}/turns/s1/stream`, {
      headers: { ...auth, "last-event-id": "-1" },
    });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error.code).toBe("invalid_headers");
  });

  it("the same turnId streamed again is answered from its stream, and stores nothing more", async () => {
    const id = conversation();
    const first = await streamTurn(id, "once", "s1");
    const again = await streamTurn(id, "once", "s1");
    expect(again.status).toBe(200);
    expect(joinedText(again.events)).toBe(joinedText(first.events));
    expect(doneOf(again.events).reply).toBe(doneOf(first.events).reply);
    expect(await stored(id)).toHaveLength(2);
  });
});

/** The response with its body cut after `events` complete events: a dropped connection. */
function cutAfter(response: Response, events: number): Response {
  const body = response.body;
  if (!body) return response;
  let seen = 0;
  const reader = body.getReader();
  const cut = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      controller.enqueue(value);
      seen += new TextDecoder().decode(value).split("\n\n").length - 1;
      if (seen >= events) {
        await reader.cancel();
        controller.error(new Error("connection dropped by the test"));
      }
    },
  });
  return new Response(cut, { status: response.status, headers: response.headers });
}

/** The EventSource's delta and done events, until done; then it is closed. */
function collect(source: EventSource): Promise<MessageEvent[]> {
  const events: MessageEvent[] = [];
  return new Promise((resolve, reject) => {
    source.addEventListener("delta", (event) => events.push(event));
    source.addEventListener("done", (event) => {
      events.push(event);
      source.close();
      resolve(events);
    });
    source.addEventListener("error", (event) => {
      if (source.readyState === EventSource.CLOSED) reject(new Error(String(event.message)));
    });
  });
}
