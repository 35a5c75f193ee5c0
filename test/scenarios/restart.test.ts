import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppCluster } from "../../lab/processes/app-cluster.ts";
import { ensureRedis, type RedisHandle } from "../../lab/processes/redis-server.ts";
import type { AppName } from "../../scenarios/catalogue.ts";
import { issueToken } from "../../service/auth/tokens.ts";
import type { MessagesResponse, TurnResponse } from "../../service/contract.ts";
import { client } from "../helpers/http.ts";

const SECRET = "restart-test-secret";

// The article's tip "check whether persistence is real": write, restart, read back.
describe("a full restart of the app's cluster", () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await ensureRedis();
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
    try {
      for (const text of ["one", "two", "three"]) {
        expect((await api.turn("persist", { text })).status).toBe(200);
      }
    } finally {
      await first.stop();
    }
    const second = await start(app);
    try {
      const again = client(second.url, token);
      const history = (await again.messages("persist")).body as MessagesResponse;
      const next = (await again.turn("persist", { text: "four" })).body as TurnResponse;
      return { history, next };
    } finally {
      await second.stop();
    }
  }

  it("keeps the fixed app's history (it lives in Redis)", async () => {
    const { history, next } = await writeRestartRead("fixed");
    expect(history.messages.map((m) => m.content).filter((_, i) => i % 2 === 0)).toEqual([
      "one",
      "two",
      "three",
    ]);
    expect(next.messagesSeen).toBe(7);
  });

  it("loses the broken app's history (it lived in the workers' memory)", async () => {
    const { history, next } = await writeRestartRead("broken");
    expect(history.messages).toEqual([]);
    expect(next.messagesSeen).toBe(1);
  });
});
