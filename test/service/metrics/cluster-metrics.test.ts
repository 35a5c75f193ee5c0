import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestJson } from "../../../lab/load/http-json.ts";
import { type AttemptAnswerLog, runLoad } from "../../../lab/load/run-load.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import { type FixedApp, startFixedApp } from "../../helpers/fixed-app.ts";

const SECRET = "metrics-test-secret";
const WORKERS = 4;

/** `name{labels} value` lines of a Prometheus text page, with the labels as an object. */
function samples(text: string, name: string) {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const match = /^[^{\s]+(?:\{(.*)\})? (\S+)$/.exec(line);
      const labels = Object.fromEntries(
        [...(match?.[1] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map(([, k, v]) => [k, v]),
      );
      return { labels, value: Number(match?.[2]) };
    });
}

const turnsByOutcome = (text: string): Record<string, number> =>
  Object.fromEntries(
    samples(text, "agent_turns_total").map((s) => [s.labels.outcome, s.value] as const),
  );

describe("GET /metrics on a real 4-worker cluster", () => {
  let fixed: FixedApp;
  const answers: AttemptAnswerLog[] = [];

  beforeAll(async () => {
    fixed = await startFixedApp({ workers: WORKERS, env: { AUTH_SECRET: SECRET } });
    const token = issueToken({ tenant: "t", user: "metrics" }, SECRET);
    // Overlap and retries make busy and replayed answers too, not only ok ones.
    await runLoad({
      url: fixed.app.url,
      token,
      conversations: 12,
      turns: 5,
      connections: 8,
      workers: WORKERS,
      sticky: false,
      overlap: 2,
      retryRate: 0.3,
      seed: 7,
      timeoutSeconds: 10,
      maxSeconds: 60,
      readBack: false,
      progress: false,
      onAnswer: (answer) => answers.push(answer),
    });
  });
  afterAll(async () => {
    await fixed?.stop();
  });

  it("counts every turn request the load sent, by outcome, summed over all workers", async () => {
    const bad = [
      requestJson(`${fixed.app.url}/conversations/c/turns`, { method: "POST" }),
      requestJson(`${fixed.app.url}/conversations/c/turns`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${issueToken({ tenant: "t", user: "u" }, SECRET)}`,
          "content-type": "application/json",
        },
        body: "{not json",
      }),
    ];
    expect((await Promise.all(bad)).map((r) => r.status)).toEqual([401, 400]);

    const pages = [];
    // Fresh connections: each scrape may land on another worker, and all must agree.
    for (let i = 0; i < WORKERS; i++) pages.push(await requestJson(`${fixed.app.url}/metrics`));
    const texts = pages.map((page) => String(page.body));
    const counted = texts.map(turnsByOutcome);
    for (const other of counted) expect(other).toEqual(counted[0]);
    const byOutcome = counted[0] ?? {};

    const status = (code: number) => answers.filter((a) => a.status === code).length;
    const busy = answers.filter(
      (a) => a.code === "conversation_busy" || a.code === "turn_in_progress",
    ).length;
    expect(answers.length).toBeGreaterThan(60);
    expect((byOutcome.ok ?? 0) + (byOutcome.replayed ?? 0)).toBe(status(200));
    expect(byOutcome.replayed ?? 0).toBeGreaterThan(0);
    expect(byOutcome.busy ?? 0).toBe(busy);
    expect(byOutcome.invalid).toBe(2);
    const total = Object.values(byOutcome).reduce((sum, n) => sum + n, 0);
    expect(total).toBe(answers.length + 2);

    // The latency histogram saw every one of them too; leases were waited for; Node's defaults.
    const text = texts[0] ?? "";
    const latencyCounts = samples(text, "agent_turn_duration_seconds_count");
    expect(latencyCounts.reduce((sum, s) => sum + s.value, 0)).toBe(total);
    expect(samples(text, "agent_lease_wait_seconds_count")[0]?.value).toBeGreaterThan(0);
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    expect(pages[0]?.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
