import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runChatLoop } from "../../../../lab/learn/chat/chat-loop.ts";
import { formatFailure, formatHistory, formatTurn } from "../../../../lab/learn/chat/format.ts";
import {
  ChatSession,
  type TurnOutcome,
  type TurnReply,
} from "../../../../lab/learn/chat/session.ts";
import { type AppCluster, startAppCluster } from "../../../../lab/processes/app-cluster.ts";
import { freePort } from "../../../../lab/processes/free-port.ts";
import { type RedisHandle, startPrivateRedis } from "../../../../lab/processes/redis-server.ts";
import type { AppName } from "../../../../scenarios/catalogue.ts";
import { issueToken } from "../../../../service/auth/tokens.ts";
import { chatWith, plain } from "./helpers.ts";

const SECRET = "chat-cli-test-secret";
const LINES = ["Hi, my name is Ada.", "I live in Paris.", "I like tea.", "And cats.", "Bye", "?"];

// Real clusters, real HTTP: 4 workers, and every request on a fresh connection, so
// consecutive turns of one conversation go round-robin across the workers.
describe("the chat session against real clusters", () => {
  let redis: RedisHandle;
  const apps = {} as Record<"broken" | "fixed", AppCluster>;
  beforeAll(async () => {
    redis = await startPrivateRedis();
    const start = (app: AppName) =>
      startAppCluster({
        app,
        scenario: "memory",
        workers: 4,
        env: { REDIS_URL: redis.url, AUTH_SECRET: SECRET, AGENT_LATENCY_MS: "0" },
      });
    [apps.broken, apps.fixed] = await Promise.all([start("broken"), start("fixed")]);
  });
  afterAll(async () => {
    await Promise.all([apps.broken?.stop(), apps.fixed?.stop()]);
    await redis?.stop();
  });

  const session = (app: "broken" | "fixed") =>
    new ChatSession({
      url: apps[app].url,
      token: issueToken({ tenant: "chat-test", user: `${app}-${Date.now()}` }, SECRET),
    });

  async function sendAll(chat: ChatSession): Promise<TurnReply[]> {
    const replies: TurnReply[] = [];
    for (const line of LINES) {
      const outcome: TurnOutcome = await chat.send(line);
      if (!outcome.ok) throw new Error(`turn failed: ${formatFailure(outcome)}`);
      replies.push(outcome);
    }
    return replies;
  }

  it("fixed: the agent sees 1, 3, 5, ... messages whichever worker answers", async () => {
    const chat = session("fixed");
    const replies = await sendAll(chat);
    expect(replies.map((r) => r.messagesSeen)).toEqual([1, 3, 5, 7, 9, 11]);
    expect(replies.map((r) => r.expected)).toEqual([1, 3, 5, 7, 9, 11]);
    expect(replies.some((r) => r.forgot)).toBe(false);
    // The turns really hopped workers: the fix is shown, not a lucky single worker.
    expect(new Set(replies.map((r) => r.servedBy.workerId)).size).toBeGreaterThan(1);
    for (const reply of replies) {
      const line = plain(formatTurn(reply));
      expect(line).toContain(`w${reply.servedBy.workerId} pid ${reply.servedBy.pid}`);
      expect(line).toContain("✓");
      expect(line).not.toContain("forgot");
    }
    const history = await chat.history();
    expect(history.ok && history.messages.length).toBe(12);
    expect(plain(formatHistory(history, chat.conversationId))).toContain("12 of 12 messages ✓");
  });

  it("broken: at least one turn reports fewer messages than expected", async () => {
    const chat = session("broken");
    const replies = await sendAll(chat);
    expect(replies.map((r) => r.expected)).toEqual([1, 3, 5, 7, 9, 11]);
    // Each worker remembers only the turns it served itself, and the agent is given exactly
    // those: 2 messages per earlier turn on the same worker, plus the turn's own.
    const servedOn = (pid: number, before: number) =>
      replies.slice(0, before).filter((r) => r.servedBy.pid === pid);
    expect(replies.map((r) => r.messagesSeen)).toEqual(
      replies.map((r, i) => 2 * servedOn(r.servedBy.pid, i).length + 1),
    );
    // So a turn forgets exactly when an earlier turn went to another worker.
    const forgotten = replies.filter((r) => r.forgot);
    expect(forgotten.map((r) => r.turn)).toEqual(
      replies.filter((r, i) => servedOn(r.servedBy.pid, i).length < i).map((r) => r.turn),
    );
    expect(forgotten.length).toBeGreaterThan(0);
    expect(new Set(replies.map((r) => r.servedBy.workerId)).size).toBeGreaterThan(1);
    const line = plain(formatTurn(forgotten[0] as TurnReply));
    expect(line).toMatch(/w\d pid \d+ {2}saw \d+ of \d+ messages ✗ forgot \d+/);
    // Six turns over four workers, round robin: no worker's memory holds more than two of them.
    const turnsPerWorker = new Map<number, number>();
    for (const { servedBy } of replies)
      turnsPerWorker.set(servedBy.pid, (turnsPerWorker.get(servedBy.pid) ?? 0) + 1);
    expect(Math.max(...turnsPerWorker.values())).toBeLessThanOrEqual(2);
    // The worker answering the read returns exactly the turns it served (both messages of
    // each, in order), so at most two turns: at most 4 of the 12 messages.
    const history = await chat.history();
    if (!history.ok) throw new Error(`history failed: ${formatFailure(history)}`);
    const own = servedOn(history.servedBy.pid, replies.length);
    expect(history.messages.map((m) => [m.role, m.content, m.servedBy.pid])).toEqual(
      own.flatMap((r) => [
        ["user", LINES[r.turn - 1], r.servedBy.pid],
        ["assistant", r.reply, r.servedBy.pid],
      ]),
    );
    expect(history.messages.length).toBeLessThanOrEqual(4);
    expect(history.expected).toBe(12);
    const shown = plain(formatHistory(history, chat.conversationId));
    expect(shown).toMatch(
      new RegExp(`as w\\d pid \\d+ sees it: ${history.messages.length} of 12 messages ✗`),
    );
  });

  it("the loop: one turn per piped line, commands, server errors printed not thrown", async () => {
    const chat = session("fixed");
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (chunk: Buffer) => {
      printed += chunk.toString("utf8");
    });
    input.end(
      ["one", "two", "/history", "x".repeat(4001), "/new", "three", "/bogus", "/help", "/quit"]
        .concat("never sent")
        .join("\n"),
    );
    await runChatLoop({ session: chat, input, output, interactive: false });
    const text = plain(printed);
    expect(text).toContain("you › one");
    expect(text).toMatch(/#1 w\d pid \d+ {2}saw 1 of 1 messages ✓/);
    expect(text).toMatch(/#2 w\d pid \d+ {2}saw 3 of 3 messages ✓/);
    expect(text).toMatch(/as w\d pid \d+ sees it: 4 of 4 messages ✓/);
    expect(text).toContain("✗ 400 invalid_body: text: text is too long");
    expect(text).toMatch(/new conversation chat-[0-9a-f]{6}/);
    // After /new the count starts over; the rejected turn did not raise the bar.
    expect(text).toMatch(/#1 w\d pid \d+ {2}saw 1 of 1 messages ✓\n.*"three"/);
    expect(text).toContain("unknown command /bogus");
    expect(text).toContain("/history");
    expect(text).not.toContain("never sent");
  });

  it("prints a wrong token and a dead server readably", async () => {
    const wrongSecret = new ChatSession({
      url: apps.fixed.url,
      token: issueToken({ tenant: "chat-test", user: "x" }, "another-secret"),
    });
    const rejected = plain(formatTurn(await wrongSecret.send("hello")));
    expect(rejected).toContain("✗ 401 unauthorized");
    expect(rejected).toContain("AUTH_SECRET");

    const nobody = new ChatSession({ url: `http://127.0.0.1:${await freePort()}`, token: "t" });
    expect(plain(formatTurn(await nobody.send("hello")))).toContain("✗ no answer: ");
  });

  it("scripts/chat.ts with --url: piped lines, worker tags, forgotten turns, exit 0 at EOF", async () => {
    const { code, stdout } = await chatWith(
      ["--app", "broken", "--url", apps.broken.url],
      [...LINES, "/history"],
      { AUTH_SECRET: SECRET },
    );
    expect(code).toBe(0);
    expect(stdout).toContain("Chatting with the broken app");
    expect(stdout).toContain("given with --url");
    expect(stdout.match(/#\d w\d pid \d+ {2}saw/g)).toHaveLength(6);
    expect(stdout).toMatch(/✗ forgot \d+/);
    expect(stdout).toMatch(/sees it: \d+ of 12 messages ✗/);
  });
});
