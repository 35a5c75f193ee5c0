import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PRODUCER_HEADER, RESUME_ATTEMPTS } from "../../../../lab/learn/page/proxy.ts";
import { type RunningWebServer, startWebServer } from "../../../../lab/learn/page/server.ts";
import { freePort } from "../../../../lab/processes/free-port.ts";
import { verifyToken } from "../../../../service/auth/tokens.ts";
import { sendExact } from "../../../helpers/raw-http.ts";

const SECRET = "proxy-test-secret";
const SESSION = "abcdef0123456789";

/** A stand-in app that records what reaches it, and on how many TCP connections. */
async function fakeApp() {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json", "x-worker-id": "7" });
      res.end(JSON.stringify({ ok: true }));
    });
  });
  server.on("connection", () => {
    connections++;
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, connections: () => connections, server };
}

/** A request with its path sent exactly as written ("..", "%2e%2e" reach the server). */
function exact(port: number, path: string, method = "GET") {
  return sendExact(port, { method, path, headers: {} });
}

describe("the page server's proxy", () => {
  let app: Awaited<ReturnType<typeof fakeApp>>;
  let web: RunningWebServer;

  beforeAll(async () => {
    app = await fakeApp();
    web = await startWebServer({
      port: await freePort(),
      brokenUrl: app.url,
      fixedUrl: app.url,
      secret: SECRET,
    });
  });
  afterAll(async () => {
    await web?.close();
    app?.server.close();
  });

  it("opens a fresh upstream connection per request, even when the browser keeps one alive", async () => {
    const before = app.connections();
    const seenBefore = app.seen.length;
    for (let i = 0; i < 3; i++) {
      // fetch keeps its connection to the page server alive; the proxy must not.
      const res = await fetch(`${web.url}/api/broken/healthz`);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-worker-id")).toBe("7");
    }
    expect(app.seen.length - seenBefore).toBe(3);
    expect(app.connections() - before).toBe(3);
    expect(app.seen.at(-1)?.headers.connection).toBe("close");
  });

  it("signs a token for tenant web and the page's session; the browser sends none", async () => {
    const res = await fetch(`${web.url}/api/fixed/conversations/c-1/turns`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-web-session": SESSION },
      body: JSON.stringify({ text: "hi" }),
    });
    expect(res.status).toBe(200);
    const last = app.seen.at(-1);
    expect(last?.url).toBe("/conversations/c-1/turns");
    expect(last?.body).toBe('{"text":"hi"}');
    const token = String(last?.headers.authorization).replace(/^Bearer /, "");
    expect(verifyToken(token, SECRET)).toEqual({
      ok: true,
      identity: { tenant: "web", user: `web-${SESSION}` },
    });
  });

  it("forwards only the HTTP contract, and needs a session id for conversations", async () => {
    const count = app.seen.length;
    const noSession = await fetch(`${web.url}/api/broken/conversations/c-1/messages`);
    expect(noSession.status).toBe(400);
    expect(await noSession.json()).toMatchObject({ error: { code: "invalid_session" } });
    const other = await exact(web.port, "/api/broken/admin", "DELETE");
    expect(other.status).toBe(404);
    const noApp = await exact(web.port, "/api/elsewhere/healthz");
    expect(noApp.status).toBe(404);
    expect(app.seen.length).toBe(count);
  });

  it("answers 502 app_unreachable, as JSON, when an app is down", async () => {
    const down = await startWebServer({
      port: await freePort(),
      brokenUrl: `http://127.0.0.1:${await freePort()}`,
      fixedUrl: app.url,
      secret: SECRET,
    });
    try {
      const res = await fetch(`${down.url}/api/broken/healthz`);
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("app_unreachable");
      expect(body.error.message).toContain("npm run start:broken");
    } finally {
      await down.close();
    }
  });

  it("serves the page's files with a strict CSP, and nothing outside web/", async () => {
    const page = await fetch(`${web.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(await page.text()).toContain("Replay scripted conversation");
    expect((await fetch(`${web.url}/app.js`)).headers.get("content-type")).toContain(
      "text/javascript",
    );
    for (const path of [
      "/%2e%2e/package.json",
      "/../service/auth/tokens.ts",
      "/%E0%A4%A",
      "/nope.js",
    ]) {
      expect((await exact(web.port, path)).status).toBe(404);
    }
  });
});

/**
 * A stand-in app for streamed turns: each TCP connection is served by the next of 4 "workers"
 * (as the cluster primary hands them out). A streamed POST sends its first event, then waits
 * for `release()` before the rest, so a test can tell whether the proxy held the first back.
 */
async function fakeStreamingApp() {
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  let connections = 0;
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const worker = String((req.socket as unknown as { worker: number }).worker);
    res.writeHead(200, { "content-type": "text/event-stream", "x-worker-id": worker });
    res.write('event: delta\nid: 1\ndata: {"text":"Hello "}\n\n');
    void released.then(() => {
      res.end('event: done\nid: 2\ndata: {"reply":"Hello world"}\n\n');
    });
  });
  server.on("connection", (socket) => {
    Object.assign(socket, { worker: (connections++ % 4) + 1 });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const nextWorker = () => String((connections % 4) + 1);
  return { url: `http://127.0.0.1:${port}`, seen, server, release, nextWorker };
}

/** Reads a response body until `text` has arrived; fails after `ms` (something held it back). */
async function readUntil(body: ReadableStream<Uint8Array>, text: string, ms = 3000) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let got = "";
  const deadline = Date.now() + ms;
  while (!got.includes(text)) {
    const left = deadline - Date.now();
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`"${text}" not received within ${ms} ms: ${got}`)), left),
    );
    const { value, done } = await Promise.race([reader.read(), timeout]);
    if (done) break;
    got += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return got;
}

describe("the page server's proxy, for streamed turns", () => {
  let app: Awaited<ReturnType<typeof fakeStreamingApp>>;
  let web: RunningWebServer;
  const session = { "x-web-session": SESSION };

  beforeAll(async () => {
    app = await fakeStreamingApp();
    web = await startWebServer({
      port: await freePort(),
      brokenUrl: app.url,
      fixedUrl: app.url,
      secret: SECRET,
    });
  });
  afterAll(async () => {
    app?.release();
    await web?.close();
    app?.server.close();
  });

  it("relays a streamed turn event by event, without buffering it", async () => {
    const res = await fetch(`${web.url}/api/fixed/conversations/c-1/turns`, {
      method: "POST",
      headers: { ...session, accept: "text/event-stream", "content-type": "application/json" },
      body: JSON.stringify({ text: "hi", turnId: "t-1" }),
    });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(app.seen.at(-1)?.headers.accept).toBe("text/event-stream");
    const body = res.body as ReadableStream<Uint8Array>;
    // The app sends the rest only after this: a buffering proxy would never get here.
    expect(await readUntil(body, '"Hello "')).toContain("id: 1");
    app.release();
    expect(await readUntil(body, "event: done")).toContain('"Hello world"');
  });

  it("resumes a turn on a worker other than its producer, and never tells the app which", async () => {
    app.release();
    const producer = app.nextWorker(); // The next connection lands there: the proxy skips it.
    const before = app.seen.length;
    const res = await fetch(`${web.url}/api/broken/conversations/c-1/turns/t-1/stream`, {
      headers: { ...session, "last-event-id": "1", [PRODUCER_HEADER]: producer },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-worker-id")).not.toBe(producer);
    expect(res.headers.get("x-web-skipped")).toBe("1");
    expect(await res.text()).toContain("event: done");
    const attempts = app.seen.slice(before);
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(attempt.url).toBe("/conversations/c-1/turns/t-1/stream");
      expect(attempt.headers["last-event-id"]).toBe("1");
      expect(attempt.headers[PRODUCER_HEADER]).toBeUndefined();
      expect(attempt.headers.authorization).toMatch(/^Bearer /);
    }
  });

  it("checks a resume's path and producer header before anything reaches the app", async () => {
    const before = app.seen.length;
    const badTurn = await exact(web.port, "/api/fixed/conversations/c-1/turns/a.b/stream");
    expect(badTurn.status).toBe(404);
    const badProducer = await fetch(`${web.url}/api/fixed/conversations/c-1/turns/t-1/stream`, {
      headers: { ...session, [PRODUCER_HEADER]: "three" },
    });
    expect(badProducer.status).toBe(400);
    expect(await badProducer.json()).toMatchObject({ error: { code: "invalid_headers" } });
    expect(app.seen.length).toBe(before);
  });

  it("gives up with 503 no_other_worker when every connection reaches the producer", async () => {
    const single = await fakeApp(); // One worker, 7, behind every connection.
    const lonely = await startWebServer({
      port: await freePort(),
      brokenUrl: single.url,
      fixedUrl: single.url,
      secret: SECRET,
    });
    try {
      const res = await fetch(`${lonely.url}/api/fixed/conversations/c-1/turns/t-1/stream`, {
        headers: { ...session, [PRODUCER_HEADER]: "7" },
      });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: "no_other_worker" } });
      expect(single.seen).toHaveLength(RESUME_ATTEMPTS);
      expect(single.connections()).toBe(RESUME_ATTEMPTS);
    } finally {
      await lonely.close();
      single.server.close();
    }
  });

  it("serves eventsource-parser's browser build for the page, and no other package file", async () => {
    for (const [file, exported] of [
      ["stream.js", "EventSourceParserStream"],
      ["index.js", "createParser"],
    ]) {
      const res = await fetch(`${web.url}/vendor/eventsource-parser/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/javascript");
      expect(await res.text()).toContain(exported);
    }
    for (const path of ["/vendor/eventsource-parser/package.json", "/vendor/eventsource-parser/"]) {
      expect((await exact(web.port, path)).status).toBe(404);
    }
  });
});
