import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRun } from "../../../lab/check/checker.ts";
import { runLoad } from "../../../lab/load/run-load.ts";
import { renderHtmlReport } from "../../../lab/report/html.ts";
import { renderComparison, renderReport, STREAM_LABELS } from "../../../lab/report/print.ts";
import { summarize } from "../../../lab/report/summary.ts";
import type { RunReport } from "../../../lab/report/write-json.ts";
import { type FakeStreamApp, startFakeStreamApp } from "../../helpers/fake-stream-app.ts";

const TOKEN = "report-token";
const apps: FakeStreamApp[] = [];
const reports: RunReport[] = [];

/** A streamed run against a fake cluster: streams any worker serves (fixed) or only their producer's. */
async function streamedReport(app: "broken" | "fixed"): Promise<RunReport> {
  const fake = await startFakeStreamApp({
    token: TOKEN,
    workers: 4,
    sharedStreams: app === "fixed",
  });
  apps.push(fake);
  const load = await runLoad({
    url: fake.url,
    token: TOKEN,
    conversations: 4,
    turns: 3,
    connections: 4,
    workers: 4,
    sticky: false,
    overlap: 1,
    retryRate: 0,
    seed: 1,
    timeoutSeconds: 5,
    maxSeconds: 30,
    progress: false,
    stream: true,
    disconnect: { rate: 0.5, afterDeltas: 2 },
  });
  const check = checkRun(load);
  return { summary: summarize(app, "streaming", load, check), check, load };
}

beforeAll(async () => {
  reports.push(await streamedReport("broken"), await streamedReport("fixed"));
});
afterAll(async () => {
  for (const app of apps) await app.stop();
});

// Colours off: the assertions read the text.
const plain = (text: string) => stripVTControlCharacters(text);

describe("the reports of a streamed run", () => {
  it("the terminal report: the stream rows, the verdict naming the stream anomaly, the Summary line", () => {
    const [broken, fixed] = reports as [RunReport, RunReport];
    const text = plain(renderReport(broken.summary, broken.load, broken.check));
    expect(text).toContain(STREAM_LABELS.streams);
    expect(text).toMatch(/12: 6 dropped, 6 of 6 resumes on another worker/);
    expect(text).toContain(
      "INVALID: 6 streamed replies never reached their clients whole: the connection dropped",
    );
    expect(text).toContain(
      "Summary: broken/streaming (4 workers, stream, disconnect-rate 0.5): INVALID; 12 sent, 6 acknowledged, 0 failed, 6 unknown;",
    );
    expect(text).toContain(
      "; streamed 12, dropped 6, resumed 6 (6 on another worker), stream gap 6, stream duplicate 0, stream mismatch 0",
    );
    expect(text).toContain("resume answered 404 not_found");
    const fixedText = plain(renderReport(fixed.summary, fixed.load, fixed.check));
    expect(fixedText).toContain("and every streamed reply reached its client whole (6 resumed");
    const comparison = plain(renderComparison(reports.map((r) => r.summary)));
    expect(comparison).toContain(STREAM_LABELS.broken);
  });

  it("the HTML report adds the stream rows where the summary is, and the JSON keeps the streams", () => {
    const page = renderHtmlReport(reports);
    expect(page).toContain(STREAM_LABELS.streams);
    expect(page).toContain(STREAM_LABELS.broken);
    expect(page).toContain("stream, disconnect-rate 0.5");
    const json = JSON.parse(JSON.stringify(reports[0])) as RunReport;
    expect(json.summary.stream).toMatchObject({ turns: 12, dropped: 6, gap: 6 });
    expect(json.load.turns.some((t) => t.streams?.[0]?.resumes[0]?.status === 404)).toBe(true);
  });
});
