import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppCluster } from "../../lab/processes/app-cluster.ts";
import { type RedisHandle, startPrivateRedis } from "../../lab/processes/redis-server.ts";
import type { AppName } from "../../scenarios/catalogue.ts";
import { issueToken } from "../../service/auth/tokens.ts";
import type { MessagesResponse, TurnResponse } from "../../service/contract.ts";
import { client } from "../helpers/http.ts";

const SECRET = "restart-test-secret";
const TEXTS = ["one", "two", "three"];

// The article's tip "check whether persistence is real": write, restart, read back.
describe("a full restart of the app's cluster", () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const start = (app: AppName) =>
    startAppCluster({
      app,
      scenario: "memory",
      workers: 2,
      env: { REDIS_URL: redis.url, AUTH_SECRET: SECRET, AGENT_LATENCY_MS: "0" },
    });

  async function writeRestartRead(app: AppName) {
    const token = issueToken({ tenant: "restart", user: `${app}-${Date.now()}` }, SECRET);
    const first = await start(app);
    const api = client(first.url, token);
    const written: { text: string; answer: TurnResponse }[] = [];
    try {
      for (const text of TEXTS) {
        const res = await api.turn("persist", { text });
        expect(res.status).toBe(200);
        written.push({ text, answer: res.body as TurnResponse });
      }
    } finally {
      await first.stop();
    }
    const second = await start(app);
    try {
      const again = client(second.url, token);
      const history = (await again.messages("persist")).body as MessagesResponse;
      const next = (await again.turn("persist", { text: "four" })).body as TurnResponse;
      return { written, history, next };
    } finally {
      await second.stop();
    }
  }

  it("keeps the fixed app's history (it lives in Redis)", async () => {
    const { written, history, next } = await writeRestartRead("fixed");
    // Both messages of every turn, in order: the user's text, then the reply it was given,
    // each carrying the turn's id.
    expect(history.messages.map((m) => [m.role, m.turnId, m.content])).toEqual(
      written.flatMap(({ text, answer }) => [
        ["user", answer.turnId, text],
        ["assistant", answer.turnId, answer.reply],
      ]),
    );
    expect(history.messages.map((m) => m.content).filter((_, i) => i % 2 === 0)).toEqual([
      "one",
      "two",
      "three",
    ]);
    expect(written.map(({ answer }) => answer.messagesSeen)).toEqual([1, 3, 5]);
    // After the restart the agent is given all of it: three turns, and its own message.
    expect(next.messagesSeen).toBe(2 * TEXTS.length + 1);
  });

  it("loses the broken app's history (it lived in the workers' memory)", async () => {
    const { written, history, next } = await writeRestartRead("broken");
    expect(written).toHaveLength(TEXTS.length);
    expect(history.messages).toEqual([]);
    expect(next.messagesSeen).toBe(1);
  });
});
