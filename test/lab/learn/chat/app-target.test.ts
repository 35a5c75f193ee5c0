import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findOrStartApp, probeHealth } from "../../../../lab/learn/chat/app-target.ts";
import { type AppCluster, startAppCluster } from "../../../../lab/processes/app-cluster.ts";
import { finished, spawnChat } from "./helpers.ts";

const SECRET = "chat-cli-target-secret";

describe("finding or starting the app to chat with", () => {
  // Stands in for `npm start`: a broken app on a port the chat is told to look at.
  let running: AppCluster;
  beforeAll(async () => {
    running = await startAppCluster({
      app: "broken",
      scenario: "memory",
      workers: 2,
      env: { AUTH_SECRET: SECRET, AGENT_LATENCY_MS: "0" },
    });
  });
  afterAll(async () => {
    await running?.stop();
  });

  it("uses an app already running on the default port when app and scenario match", async () => {
    const target = await findOrStartApp({
      app: "broken",
      scenario: "memory",
      workers: 4,
      reuse: true,
      probePort: running.port,
      authSecret: SECRET,
    });
    expect(target.owned).toBe(false);
    expect(target.url).toBe(running.url);
    expect(target.where).toBe(`already running on :${running.port}`);
    await target.stop();
    // Not ours to stop.
    expect(await probeHealth(running.url)).toMatchObject({ app: "broken" });
  });

  it("starts (and then stops) its own when the running app is another one", async () => {
    const notes: string[] = [];
    const target = await findOrStartApp({
      app: "fixed",
      scenario: "memory",
      workers: 2,
      reuse: true,
      probePort: running.port,
      authSecret: SECRET,
      note: (message) => notes.push(message),
    });
    try {
      expect(notes.join("\n")).toContain(`:${running.port} serves broken/memory`);
      expect(target.owned).toBe(true);
      expect(target.url).not.toBe(running.url);
      expect(await probeHealth(target.url)).toMatchObject({ app: "fixed", scenario: "memory" });
    } finally {
      await target.stop();
    }
    expect(await probeHealth(target.url)).toBeUndefined();
  });

  it("scripts/chat.ts stops the cluster it started on SIGINT", async () => {
    // --workers: always a cluster of its own, whatever runs on :3001.
    const child = spawnChat(["--app", "broken", "--workers", "1"]);
    const done = finished(child);
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        const match = /(http:\/\/127\.0\.0\.1:\d+), started here/.exec(out);
        if (match?.[1] && out.includes("/quit")) resolve(match[1]);
      });
      child.once("exit", () => reject(new Error(`chat exited early:\n${out}`)));
    });
    expect(await probeHealth(url)).toMatchObject({ app: "broken" });
    child.kill("SIGINT");
    const { code, stdout } = await done;
    expect(code).toBe(130);
    expect(stdout).toContain("stopping the broken app");
    expect(await probeHealth(url)).toBeUndefined();
  });
});
