import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppCluster, startAppCluster } from "../../lab/processes/app-cluster.ts";
import { type RedisHandle, startPrivateRedis } from "../../lab/processes/redis-server.ts";
import { issueToken } from "../../service/auth/tokens.ts";
import type { ErrorResponse, MessagesResponse, TurnResponse } from "../../service/contract.ts";
import { client } from "../helpers/http.ts";
import { runApp } from "../helpers/run-app.ts";

const SECRET = "rate-limit-test-secret";
const LIMIT = 20;
const CONVERSATIONS = 6;
const TURNS_EACH = 10;

/** One user's 60 turns, one fresh connection each (the primary deals them over the workers). */
async function sendSixtyTurns(url: string) {
  const http = client(url, issueToken({ tenant: "t", user: `u-${Date.now()}` }, SECRET));
  const answers = [];
  for (let turn = 0; turn < TURNS_EACH; turn++) {
    for (let c = 0; c < CONVERSATIONS; c++) {
      answers.push(await http.turn(`c${c}`, { text: `turn ${turn} of c${c}` }));
    }
  }
  const stored = await Promise.all(
    Array.from({ length: CONVERSATIONS }, (_, c) => http.messages(`c${c}`)),
  );
  const messages = stored.reduce((n, r) => n + (r.body as MessagesResponse).messages.length, 0);
  return { answers, messages };
}

const workersOf = (answers: { status: number; body: unknown }[]) =>
  new Set(
    answers.filter((a) => a.status === 200).map((a) => (a.body as TurnResponse).servedBy.pid),
  );

describe("scenario rate-limit: one user, 60 turns, a limit of 20 a minute, 4 workers", () => {
  let redis: RedisHandle;
  const apps: Partial<Record<"broken" | "fixed", AppCluster>> = {};

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const env = {
      REDIS_URL: redis.url,
      AUTH_SECRET: SECRET,
      AGENT_LATENCY_MS: "0",
      RATE_LIMIT_TURNS_PER_MINUTE: String(LIMIT),
    };
    for (const app of ["broken", "fixed"] as const) {
      apps[app] = await startAppCluster({ app, scenario: "rate-limit", workers: 4, env });
    }
  });

  afterAll(async () => {
    await Promise.all(Object.values(apps).map((app) => app?.stop()));
    await redis?.stop();
  });

  it("fixed: exactly 20 through, counted across every worker; the rest 429 with Retry-After, nothing stored", async () => {
    const { answers, messages } = await sendSixtyTurns(apps.fixed?.url ?? "");
    const accepted = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(accepted).toHaveLength(LIMIT);
    expect(refused).toHaveLength(60 - LIMIT);
    expect(workersOf(answers).size).toBe(4);
    expect(messages).toBe(2 * LIMIT);
    for (const answer of refused) {
      expect((answer.body as ErrorResponse).error.code).toBe("rate_limited");
      const retryAfter = Number(answer.headers["retry-after"]);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(answer.headers.ratelimit).toMatch(/^"turns"; r=0; t=\d+$/);
      // The partition key (pk) is a hash of the user's key: it names no one.
      expect(answer.headers["ratelimit-policy"]).toMatch(
        new RegExp(`^"turns"; q=${LIMIT}; w=60; pk=:[A-Za-z0-9+/=]+:$`),
      );
    }
  });

  it("broken: each worker counts in its own memory, so more than 20 get through", async () => {
    const { answers, messages } = await sendSixtyTurns(apps.broken?.url ?? "");
    const accepted = answers.filter((a) => a.status === 200).length;
    expect(accepted).toBeGreaterThan(LIMIT);
    expect(workersOf(answers).size).toBe(4);
    expect(messages).toBe(2 * accepted);
  });
});

describe("scenario rate-limit under the load test and checker", () => {
  const load = { conversations: 12, turns: 6, workers: 4 };

  it("broken: INVALID, turns acknowledged over the limit", async () => {
    const { summary, check } = await runApp("broken", load, "rate-limit");
    expect(summary.verdict).toBe("invalid");
    expect(check.totals.overLimit).toBeGreaterThan(0);
    expect(check.totals.overLimit).toBe(check.totals.acknowledged - LIMIT);
    expect(check.reasons.join(" ")).toContain("over the user's turn limit");
  });

  it("fixed: VALID, exactly the limit acknowledged, the rest refused with 429", async () => {
    const { summary, check, load: run } = await runApp("fixed", load, "rate-limit");
    expect(summary.verdict).toBe("valid");
    expect(check.anomalies).toEqual([]);
    expect(check.totals.acknowledged).toBe(LIMIT);
    expect(run.turns.filter((turn) => turn.status === 429)).toHaveLength(72 - LIMIT);
  });
});
