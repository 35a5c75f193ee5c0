import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { typecheck } from "../../lab/learn/exercises/compile.ts";
import { freePort } from "../../lab/processes/free-port.ts";
import { type PrivateRedis, startPrivateRedis } from "../../lab/processes/redis-server.ts";
import { stopChild } from "../../lab/processes/stop-child.ts";
import { issueToken } from "../../service/auth/tokens.ts";
import { client } from "../helpers/http.ts";
import { joinedText, readStream } from "../helpers/sse.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const SECRET = "snippet-test-secret-of-at-least-32-bytes";

/** The README's "Use the fix in your own Express app" code block, as written there. */
async function readmeSnippet(): Promise<string> {
  const readme = await readFile(join(ROOT, "README.md"), "utf8");
  const section = readme.split("## Use the fix in your own Express app")[1] ?? "";
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code)
    throw new Error("README has no ts code block under 'Use the fix in your own Express app'");
  return code;
}

describe("the README's own-app snippet, with nothing but service/index.ts", () => {
  let redis: PrivateRedis;
  let app: ChildProcess | undefined;
  let file: string;
  let port: number;
  const dir = join(ROOT, ".runs", `snippet-${process.pid}`);

  beforeAll(async () => {
    redis = await startPrivateRedis();
    await mkdir(dir, { recursive: true });
    const service = relative(dir, join(ROOT, "service")).split("\\").join("/");
    const snippet = await readmeSnippet();
    expect(snippet).toContain('from "./service/index.ts"');
    expect(snippet.match(/from "\.\//g)).toHaveLength(1);
    file = join(dir, "my-app.ts");
    await writeFile(
      file,
      snippet.replace('from "./service/index.ts"', `from "${service}/index.ts"`),
    );
    port = await freePort();
  });
  afterAll(async () => {
    if (app) await stopChild(app);
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("type-checks under the project's strict options", async () => {
    const typed = await typecheck(file);
    expect(typed.output).toBe("");
    expect(typed.ok).toBe(true);
  });

  it("runs: turns of one conversation see the history, a repeated turnId is replayed", async () => {
    app = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        REDIS_URL: redis.url,
        AUTH_SECRET: SECRET,
        LOG_LEVEL: "silent",
        RATE_LIMIT_TURNS_PER_MINUTE: "4",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const [line] = (await once(app.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
    expect(line.toString()).toContain(`listening on ${port}`);

    const token = issueToken({ tenant: "acme", user: "ann" }, SECRET, 60);
    const api = client(`http://127.0.0.1:${port}/agent`, token);
    const first = await api.turn("trip-1", { text: "Hi, my name is Ada.", turnId: "t1" });
    const second = await api.turn("trip-1", { text: "What is my name?", turnId: "t2" });
    expect(first).toMatchObject({ status: 200, body: { messagesSeen: 1, historyLength: 0 } });
    expect(second).toMatchObject({ status: 200, body: { messagesSeen: 3, historyLength: 2 } });
    const again = await api.turn("trip-1", { text: "What is my name?", turnId: "t2" });
    expect(again).toMatchObject({ status: 200, body: { replayed: true, historyLength: 2 } });
    const history = await api.messages("trip-1");
    expect((history.body as { messages: { content: string }[] }).messages).toHaveLength(4);
    // Streamed, from Redis: a second client reads the same turn's stream to its done.
    const base = `http://127.0.0.1:${port}/agent/conversations/trip-2`;
    const headers = { authorization: `Bearer ${token}` };
    const streamed = await readStream(`${base}/turns`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ text: "Stream this.", turnId: "s1" }),
    });
    const resumed = await readStream(`${base}/turns/s1/stream`, { headers });
    expect(streamed.events.at(-1)?.event).toBe("done");
    expect(joinedText(resumed.events)).toBe(joinedText(streamed.events));
    // RATE_LIMIT_TURNS_PER_MINUTE=4: four turns went through, the fifth is refused.
    const limited = await api.turn("trip-1", { text: "One more?", turnId: "t3" });
    expect(limited).toMatchObject({ status: 429, body: { error: { code: "rate_limited" } } });
    const metrics = await client(`http://127.0.0.1:${port}/agent`).get("/metrics");
    expect(String(metrics.body)).toContain(
      'agent_turns_total{app="my-app",outcome="rate_limited"} 1',
    );
  });
});
