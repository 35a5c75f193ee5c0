import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
