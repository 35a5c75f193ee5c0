import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askRedis } from "../../../lab/processes/ask-redis.ts";
import { freePort } from "../../../lab/processes/free-port.ts";
import { type PrivateRedis, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import { loadConfig } from "../../../service/config.ts";
import type { ChatMessage } from "../../../service/contract.ts";
import {
  checkRedisAccess,
  RedisAccessRefusedError,
} from "../../../service/store/redis-access-check.ts";
import { createStoreClient, waitUntilReady } from "../../../service/store/redis-client.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";

/** Special characters on purpose: the password must survive being put in a URL. */
const PASSWORD = "pa ss:w/rd@1";
/** A refusal must come at once, not after a retry loop or a connect timeout. */
const REFUSAL_BOUND_MS = 5000;

/** The app's Redis settings from an environment, validated as the app itself does. */
const settings = (env: Record<string, string>) => loadConfig({ LOG_LEVEL: "silent", ...env });

const turn = (turnId: string): ChatMessage[] =>
  (["user", "assistant"] as const).map((role) => ({
    role,
    content: `${role} ${turnId}`,
    turnId,
    servedBy: { workerId: 1, pid: 1, hostname: "test" },
    at: new Date(0).toISOString(),
  }));

/** The fixed app's store on `env`'s settings: appends one turn to a fresh key, reads it back. */
async function appendAndLoad(env: Record<string, string>): Promise<string[]> {
  const client = createStoreClient(settings(env));
  try {
    await waitUntilReady(client, 5000);
    const store = new RedisConversationStore(client, 60);
    const key = `access-test:${randomUUID()}`;
    await store.append(key, turn("t1"));
    return (await store.load(key)).map((m) => m.content);
  } finally {
    client.disconnect();
  }
}

/** checkRedisAccess's refusal (or undefined), and how long it took. */
async function timedCheck(env: Record<string, string>) {
  const started = Date.now();
  const refusal = await checkRedisAccess(settings(env)).then(
    () => undefined,
    (error: unknown) => error,
  );
  return { refusal, ms: Date.now() - started };
}

/** Connections the server has accepted so far (INFO stats), as its admin sees it. */
async function connectionsReceived(redis: PrivateRedis): Promise<number> {
  const target = { host: "127.0.0.1", port: redis.port, password: redis.password };
  const info = String(await askRedis(target, "INFO", "stats"));
  return Number(/total_connections_received:(\d+)/.exec(info)?.[1]);
}

describe("a Redis with a password (requirepass)", () => {
  let redis: PrivateRedis;
  let plainUrl: string;

  beforeAll(async () => {
    redis = await startPrivateRedis({ password: PASSWORD });
    plainUrl = `redis://127.0.0.1:${redis.port}`;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("stores and loads a turn with REDIS_PASSWORD", async () => {
    expect(await appendAndLoad({ REDIS_URL: plainUrl, REDIS_PASSWORD: PASSWORD })).toEqual([
      "user t1",
      "assistant t1",
    ]);
  });

  it("stores and loads a turn with the password in REDIS_URL", async () => {
    expect(redis.url).toBe(`redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`);
    expect(await appendAndLoad({ REDIS_URL: redis.url })).toHaveLength(2);
  });

  it("passes the access check with the right password", async () => {
    await checkRedisAccess(settings({ REDIS_URL: plainUrl, REDIS_PASSWORD: PASSWORD }));
    await checkRedisAccess(settings({ REDIS_URL: redis.url }));
  });

  it("refuses a wrong password at once, naming the setting to fix", async () => {
    const { refusal, ms } = await timedCheck({ REDIS_URL: plainUrl, REDIS_PASSWORD: "wrong" });
    expect(refusal).toBeInstanceOf(RedisAccessRefusedError);
    expect((refusal as Error).message).toMatch(
      new RegExp(
        `^Redis at 127\\.0\\.0\\.1:${redis.port} refused the password \\(WRONGPASS .*set REDIS_PASSWORD, or the password in REDIS_URL`,
      ),
    );
    expect(ms).toBeLessThan(REFUSAL_BOUND_MS);
  });

  it("refuses a missing password at once, naming the setting to fix", async () => {
    const { refusal, ms } = await timedCheck({ REDIS_URL: plainUrl });
    expect(refusal).toBeInstanceOf(RedisAccessRefusedError);
    expect((refusal as Error).message).toContain(
      "requires a password (NOAUTH): set REDIS_PASSWORD",
    );
    expect(ms).toBeLessThan(REFUSAL_BOUND_MS);
  });

  it("leaves no reconnect loop behind after a refusal", async () => {
    await timedCheck({ REDIS_URL: plainUrl, REDIS_PASSWORD: "wrong" });
    const before = await connectionsReceived(redis);
    // An observation window, not a synchronisation: the store client's first reconnect would
    // come within 100 ms, so three times that would have seen one.
    await sleep(300);
    // The one more is connectionsReceived's own connection.
    expect(await connectionsReceived(redis)).toBe(before + 1);
  });
});

describe("a TLS-only Redis with a password (certificates made for this test)", () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis({ tls: true, password: PASSWORD });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it("stores and loads a turn over rediss:// with REDIS_TLS_CA", async () => {
    expect(redis.url.startsWith("rediss://")).toBe(true);
    const tlsUrl = `rediss://127.0.0.1:${redis.port}`;
    const env = { REDIS_URL: tlsUrl, REDIS_PASSWORD: PASSWORD, REDIS_TLS_CA: redis.caFile ?? "" };
    expect(await appendAndLoad(env)).toHaveLength(2);
    expect(await appendAndLoad({ REDIS_URL: redis.url, REDIS_TLS_CA: redis.caFile ?? "" })).toEqual(
      ["user t1", "assistant t1"],
    );
    await checkRedisAccess(settings(env));
  });

  it("refuses a server certificate it cannot verify when REDIS_TLS_CA is missing", async () => {
    const { refusal, ms } = await timedCheck({ REDIS_URL: redis.url });
    expect(refusal).toBeInstanceOf(RedisAccessRefusedError);
    const message = (refusal as Error).message;
    expect(message).toMatch(new RegExp(`^TLS to Redis at 127\\.0\\.0\\.1:${redis.port} failed: `));
    expect(message).toContain("set REDIS_TLS_CA to the CA that signed the server's certificate");
    expect(ms).toBeLessThan(REFUSAL_BOUND_MS);
  });

  it("refuses a wrong password over TLS", async () => {
    const env = {
      REDIS_URL: `rediss://:wrong@127.0.0.1:${redis.port}`,
      REDIS_TLS_CA: redis.caFile ?? "",
    };
    const { refusal } = await timedCheck(env);
    expect((refusal as Error).message).toContain("refused the password (WRONGPASS");
  });

  it("refuses an unreadable REDIS_TLS_CA, naming the file", async () => {
    const { refusal } = await timedCheck({
      REDIS_URL: redis.url,
      REDIS_TLS_CA: "/nonexistent/ca.pem",
    });
    expect(refusal).toBeInstanceOf(RedisAccessRefusedError);
    expect((refusal as Error).message).toContain("cannot read REDIS_TLS_CA (/nonexistent/ca.pem)");
  });
});

describe("an unreachable Redis", () => {
  it("passes the access check (the app starts and answers 503 until Redis is back)", async () => {
    const port = await freePort();
    const { refusal, ms } = await timedCheck({
      REDIS_URL: `redis://127.0.0.1:${port}`,
      REDIS_PASSWORD: "any",
    });
    expect(refusal).toBeUndefined();
    expect(ms).toBeLessThan(REFUSAL_BOUND_MS);
  });
});
