import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRun } from "../../../lab/check/checker.ts";
import { runDemo } from "../../../lab/learn/demo/run-demo.ts";
import { LoadFlags } from "../../../lab/load/cli-options.ts";
import type { LoadResult } from "../../../lab/load/run-load.ts";
import { renderHtmlReport, writeHtmlReport } from "../../../lab/report/html.ts";
import { summarize } from "../../../lab/report/summary.ts";
import type { RunReport } from "../../../lab/report/write-json.ts";
import type { ServedBy } from "../../../service/contract.ts";
import { launchChromium, SCREENSHOT_DIR } from "../learn/page/chromium.ts";

const EVIL = `</td><script>alert("x")</script><img src=x onerror=alert(1)> & 'quotes'`;

/** A two-turn run, built by hand, whose texts and replies are hostile markup. */
function handMadeReport(): RunReport {
  const by = (workerId: number): ServedBy => ({ workerId, pid: 100 + workerId, hostname: "h" });
  const base = { conversationId: "c-1", outcome: "ok" as const, status: 200, latencyMs: 5 };
  const turns = [
    { ...base, index: 0, turnId: "t0", text: EVIL, sentAt: 1, answeredAt: 2, servedBy: by(1) },
    { ...base, index: 1, turnId: "t1", text: "again", sentAt: 3, answeredAt: 4, servedBy: by(2) },
  ].map((t) => ({ ...t, reply: `You said "${t.text}". ${EVIL}`, messagesSeen: 1 }));
  const message = (turnId: string, role: "user" | "assistant", content: string) => ({
    role,
    content,
    turnId,
    servedBy: by(1),
    at: new Date(0).toISOString(),
  });
  const load: LoadResult = {
    runId: "run-evil",
    seed: 1,
    options: {
      url: "http://127.0.0.1:1",
      conversations: 1,
      turns: 2,
      connections: 1,
      workers: 2,
      sticky: false,
      overlap: 1,
      retryRate: 0,
      timeoutSeconds: 10,
      maxSeconds: 10,
      progress: false,
    },
    durationMs: 10,
    idleRequests: 0,
    timedOut: false,
    errorAnswers: [],
    workersExpected: 2,
    turns,
    reads: [
      {
        conversationId: "c-1",
        ok: true,
        servedBy: by(1),
        messages: [message("t0", "user", EVIL), message("t0", "assistant", turns[0]?.reply ?? "")],
      },
    ],
  };
  const check = checkRun(load);
  return { summary: summarize("broken", "memory", load, check), check, load };
}

describe("renderHtmlReport (no browser)", () => {
  it("escapes every string from the run: no markup from a reply or a text gets through", () => {
    const page = renderHtmlReport([handMadeReport()]);
    expect(page).not.toContain("<script");
    expect(page).not.toContain("<img");
    expect(page).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page).toContain("&#39;quotes&#39;");
  });

  it("is self-contained: no external stylesheet, script, image or font", () => {
    const page = renderHtmlReport([handMadeReport()]);
    expect(page).not.toMatch(/<(link|script|iframe)\b/i);
    expect(page).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(page).not.toMatch(/url\(/i);
    expect(page).toContain("<svg");
    expect(page).toContain("INVALID");
    // The inline stylesheet is trusted markup: escaping it would break its quoted values.
    expect(page).not.toMatch(/<style>[^<]*&quot;/);
  });
});

describe("the HTML report of real runs, opened offline in headless chromium", () => {
  let logDir: string;
  const reports: RunReport[] = [];

  beforeAll(async () => {
    logDir = await mkdtemp(join(tmpdir(), "web-report-test-"));
    const flags = LoadFlags.parse({ workers: 4, conversations: 6, turns: 4, connections: 4 });
    // One at a time: two 4-worker clusters at once would crowd a 2-core machine.
    for (const app of ["broken", "fixed"] as const) {
      const { summary, check, load } = await runDemo({
        ...flags,
        app,
        scenario: "memory",
        agentLatencyMs: 5,
        logDir,
        progress: false,
      });
      reports.push({ summary, check, load });
    }
  }, 120_000);

  afterAll(async () => {
    await rm(logDir, { recursive: true, force: true });
  });

  it("shows INVALID for broken and VALID for fixed, charts and the transcript", async () => {
    expect(reports.map((r) => r.summary.verdict)).toEqual(["invalid", "valid"]);
    const file = resolve(SCREENSHOT_DIR, "html-report.html");
    const browser = await launchChromium();
    try {
      await writeHtmlReport(file, reports);
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      // Offline means offline: the page must not ask for anything but itself.
      const requests: string[] = [];
      page.on("request", (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(file).href);

      const verdicts = await page.locator("table.summary .verdict").allTextContents();
      expect(verdicts).toEqual(["INVALID", "VALID"]);
      const header = await page.locator("table.summary thead").textContent();
      expect(header).toMatch(/broken.*fixed/s);
      const lostRow = await page
        .locator("table.summary tr", { hasText: "acknowledged, missing from some read" })
        .locator("td")
        .allTextContents();
      // The broken run's cell shows exactly its own count and share, and that count is not 0.
      const brokenSummary = reports[0]?.summary;
      expect(brokenSummary?.lost).toBeGreaterThan(0);
      expect(lostRow[0]).toBe(`${brokenSummary?.lost} (${brokenSummary?.lostPct}%)`);
      expect(lostRow[1]).toBe("0 (0%)");

      const sections = page.locator(".apps > section");
      expect(await sections.count()).toBe(2);
      // Two charts per app (lost/stale per conversation, turns per worker), inline SVG: one
      // image to a screen reader, drawn as one SVG per row of bars.
      expect(await page.locator(".apps [role=img]").count()).toBe(4);
      expect(await page.locator(".apps [role=img] svg").count()).toBeGreaterThanOrEqual(4);
      const broken = sections.nth(0);
      expect(await broken.locator("h3").allTextContents()).toContain(
        "A conversation where the agent forgets",
      );
      expect(await broken.locator("table.transcript .flag").count()).toBeGreaterThan(0);
      expect(await broken.locator("table.transcript").textContent()).toMatch(/worker \d+/);
      expect(await sections.nth(1).locator("table.transcript .flag").count()).toBe(0);

      await page.screenshot({ path: join(SCREENSHOT_DIR, "html-report.png"), fullPage: true });
      expect(requests.filter((url) => !url.startsWith("file:"))).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
