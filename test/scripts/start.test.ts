import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAppCluster, waitForStore } from "../../lab/processes/app-cluster.ts";
import { freePort } from "../../lab/processes/free-port.ts";
import { type PrivateRedis, startPrivateRedis } from "../../lab/processes/redis-server.ts";

const run = promisify(execFile);
const START = join(import.meta.dirname, "../../scripts/start.ts");

/** `npm run start:fixed` with the given environment, as a child process. */
async function startFixed(env: Record<string, string>) {
  // Nothing about Redis or secrets leaks in from the shell: each test says what it sets.
  const {
    REDIS_URL: _url,
    REDIS_PASSWORD: _password,
    REDIS_TLS_CA: _ca,
    REDIS_SENTINELS: _sentinels,
    AUTH_SECRET: _secret,
    ...inherited
  } = process.env;
  try {
    await run(process.execPath, ["--import", "tsx", START, "--app", "fixed"], {
      env: { ...inherited, ...env },
      timeout: 20_000,
    });
    return { code: 0, stderr: "" };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: failed.code, stderr: failed.stderr ?? "" };
  }
}

describe("npm run start:fixed", () => {
  it("refuses to start in production without a secret, saying how to make one", async () => {
    const { code, stderr } = await startFixed({ NODE_ENV: "production" });
    expect(code).toBe(1);
    expect(stderr).toContain("fixed app cannot start: invalid environment: AUTH_SECRET");
    expect(stderr).toContain("randomBytes(32)");
    // Refused before anything started: no private redis-server was announced.
    expect(stderr).not.toContain("started a private redis-server");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("starts no private redis-server of its own when REDIS_SENTINELS is set", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agent-sandbox-start-"));
    const logFile = join(dir, "app.log");
    try {
      // No sentinel listens there: the app still starts, and answers 503 until one does.
      const sentinels = `127.0.0.1:${await freePort()}`;
      const env = { REDIS_URL: undefined, REDIS_SENTINELS: sentinels };
      const app = await startAppCluster({
        app: "fixed",
        scenario: "memory",
        workers: 1,
        env,
        logFile,
      });
      await app.stop();
      expect(await readFile(logFile, "utf8")).not.toContain("started a private redis-server");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe("on a TLS Redis that requires a password", () => {
    let redis: PrivateRedis;

    beforeAll(async () => {
      redis = await startPrivateRedis({ password: "right-password", tls: true });
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it("exits 1 at once on a wrong REDIS_PASSWORD, saying which setting to fix", async () => {
      const started = Date.now();
      const { code, stderr } = await startFixed({
        REDIS_URL: `rediss://127.0.0.1:${redis.port}`,
        REDIS_TLS_CA: redis.caFile ?? "",
        REDIS_PASSWORD: "wrong-password",
        WORKERS: "1",
      });
      const ms = Date.now() - started;
      expect(code).toBe(1);
      expect(stderr).toContain(
        `fixed app cannot start: Redis at 127.0.0.1:${redis.port} refused the password (WRONGPASS`,
      );
      expect(stderr).toContain("set REDIS_PASSWORD");
      expect(stderr).not.toContain("started a private redis-server");
      expect(stderr).not.toMatch(/\n\s+at /);
      // Well under the 20 s the child may run: a retry loop would never exit on its own.
      expect(ms).toBeLessThan(10_000);
    });

    it("starts with the right REDIS_PASSWORD and REDIS_TLS_CA: every worker reaches the store", async () => {
      const app = await startAppCluster({
        app: "fixed",
        scenario: "memory",
        workers: 2,
        env: {
          REDIS_URL: `rediss://127.0.0.1:${redis.port}`,
          REDIS_TLS_CA: redis.caFile,
          REDIS_PASSWORD: "right-password",
        },
      });
      try {
        await waitForStore(app.url, 2);
      } finally {
        await app.stop();
      }
    });
  });
});
