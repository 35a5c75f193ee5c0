import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const START = join(import.meta.dirname, "../../scripts/start.ts");

/** `npm run start:fixed` with the given environment, as a child process. */
async function startFixed(env: Record<string, string>) {
  const { REDIS_URL: _url, AUTH_SECRET: _secret, ...inherited } = process.env;
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
});
