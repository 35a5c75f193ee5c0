import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RedisNotInstalledError } from "../../lab/processes/redis-server.ts";
import { runApp } from "../helpers/run-app.ts";

// As on a machine without Redis: no redis-server on the PATH and no REDIS_URL.
describe("without redis-server", () => {
  let path: string | undefined;
  beforeEach(() => {
    path = process.env.PATH;
    process.env.PATH = "/nonexistent";
  });
  afterEach(() => {
    process.env.PATH = path;
  });

  it("the fixed demo falls back to the file store, says so, and stays valid", async () => {
    const notes: string[] = [];
    const result = await runApp("fixed", { conversations: 8, turns: 4 }, "memory", (m) =>
      notes.push(m),
    );
    expect(result.scenario).toBe("file-store");
    expect(notes.join("\n")).toMatch(/redis-server is not installed.*file store/s);
    expect(result.summary.verdict).toBe("valid");
    expect(result.check.anomalies).toEqual([]);
    expect(result.summary.acknowledged).toBe(8 * 4);
  });

  it("a scenario that needs Redis stops with a clear message on how to get it", async () => {
    await expect(runApp("broken", {}, "copied-state")).rejects.toBeInstanceOf(
      RedisNotInstalledError,
    );
    await expect(runApp("broken", {}, "copied-state")).rejects.toThrow(
      /apt-get install redis-server|REDIS_URL/,
    );
  });
});
