import pc from "picocolors";
import { type AppName, keepsOf, type Scenario } from "../../scenarios/catalogue.ts";
import type { CheckResult } from "../check/types.ts";
import { plural } from "../check/wording.ts";
import type { LoadResult } from "../load/run-load.ts";
import { countTag, textTable, verdictTag } from "./palette.ts";
import type { RunSummary, StreamSummary } from "./summary.ts";
import { pickConversation, renderTranscript, transcriptHeading } from "./transcript.ts";
import { verdictSentence } from "./verdict-sentence.ts";
import { clusterShape } from "./worker-name.ts";

/** The app, the scenario, where its state lives: the words of every label of a run. */
export function labelParts(summary: Pick<RunSummary, "app" | "scenario">): string[] {
  const keeps = keepsOf(summary.app, summary.scenario);
  return [summary.app, `${summary.scenario} scenario`, ...(keeps ? [keeps] : [])];
}

/** "broken · memory scenario · history in worker memory". */
export function runLabel(summary: Pick<RunSummary, "app" | "scenario">): string {
  return labelParts(summary).join(" · ");
}

const pctOf = (n: number, pct: number) => `${n} (${pct}%)`;

/** The full report of one run, meant to be readable when projected in a workshop. */
export function renderReport(summary: RunSummary, load: LoadResult, check: CheckResult): string {
  const t = check.totals;
  const workers = `${summary.workers} ${plural(summary.workers, "worker")}`;
  const title = `${runLabel(summary)} · ${workers}${summary.sticky ? " · sticky connections" : ""}`;
  const table = textTable();
  table.push(
    { verdict: verdictTag(summary.verdict) },
    { "turns acknowledged (HTTP 200)": `${summary.acknowledged} of ${summary.turnsSent} sent` },
    {
      "acknowledged, missing from every read": countTag(
        summary.lostEverywhere,
        pctOf(summary.lostEverywhere, summary.lostEverywherePct),
      ),
    },
    {
      "acknowledged, missing from some read": countTag(
        summary.lost,
        pctOf(summary.lost, summary.lostPct),
      ),
    },
    {
      "share of its history one read shows": countTag(
        summary.historyVisiblePct < 100 ? 1 : 0,
        `${summary.historyVisiblePct}% (mean over reads)`,
      ),
    },
    {
      "replies that missed earlier turns": countTag(
        summary.stale,
        pctOf(summary.stale, summary.stalePct),
      ),
    },
    {
      "conversations with any anomaly": countTag(
        summary.conversationsAffected,
        `${summary.conversationsAffected} of ${summary.conversations}`,
      ),
    },
    {
      "messages duplicated / out of order / never sent": `${countTag(t.duplicated)} / ${countTag(t.outOfOrder)} / ${countTag(t.unexpected)}`,
    },
    {
      "overlapping turns interleaved / answered without earlier ones": `${countTag(t.interleaved)} / ${countTag(t.staleContext)}`,
    },
    {
      "conversations whose reads disagree": countTag(
        t.divergent,
        `${t.divergent} of ${summary.conversations}`,
      ),
    },
  );
  table.push(...streamRows(summary));
  table.push(
    { "turns refused (nothing stored) / outcome unknown": `${t.failed} / ${t.unknownOutcome}` },
    { "acknowledged over the turn limit": overLimitCell(load, check) },
    { "workers that served one conversation (mean)": String(summary.meanWorkersPerConversation) },
    { "acknowledged turns per second": String(summary.turnsPerSecond) },
    { "latency p50 / p99": `${summary.p50Ms} ms / ${summary.p99Ms} ms` },
  );
  const lines = [
    pc.bold(title),
    table.toString(),
    pc.bold(verdictSentence(summary, check)),
    summaryLine(summary, load, check),
  ];
  for (const reason of check.reasons)
    lines.push(`  ${summary.verdict === "invalid" ? pc.red("✗") : pc.yellow("?")} ${reason}`);
  const shown = pickConversation(check);
  if (shown) {
    const heading = `${transcriptHeading(shown)} (${shown.conversationId}):`;
    lines.push("", pc.bold(heading), renderTranscript(load, shown.conversationId));
  }
  return lines.join("\n");
}

/** The streamed run's rows (none for a run that did not stream), labels as in the comparison. */
function streamRows(summary: RunSummary): Record<string, string>[] {
  const { stream } = summary;
  if (!stream) return [];
  return [
    { [STREAM_LABELS.streams]: streamsCell(stream) },
    {
      [STREAM_LABELS.broken]: `${countTag(stream.gap)} / ${countTag(stream.duplicate)} / ${countTag(stream.mismatch)}`,
    },
  ];
}

/** The labels of a streamed run's rows, in the report and the comparison. */
export const STREAM_LABELS = {
  streams: "streamed turns: dropped mid-stream, resumed on another worker",
  broken: "streamed replies with an event missing / repeated / text differing",
} as const;

/** "72: 36 dropped, 36 of 36 resumes on another worker". */
export function streamsCell(stream: StreamSummary): string {
  const crossed = countTag(
    stream.dropped > 0 && stream.crossed === 0 ? 1 : 0,
    `${stream.crossed} of ${stream.resumes} ${plural(stream.resumes, "resume")} on another worker`,
  );
  return `${stream.turns}: ${stream.dropped} dropped, ${crossed}`;
}

/** Turns let through beyond the user's limit, and how many the limit refused (429). */
export function overLimitCell(load: LoadResult, check: CheckResult): string {
  const limit = load.options.turnLimitPerMinute;
  if (limit === undefined) return pc.dim("no limit checked");
  const refused = load.turns.filter((turn) => turn.status === 429).length;
  return `${countTag(check.totals.overLimit)} (limit ${limit}/min; ${refused} refused with 429)`;
}

/** One line with the verdict and every count, for people and for grep. */
export function summaryLine(summary: RunSummary, load: LoadResult, check: CheckResult): string {
  const t = check.totals;
  const hosts = load.options.hosts?.length ?? 1;
  const shape = [
    clusterShape(summary.workers, hosts),
    load.options.overlap > 1 ? `overlap ${load.options.overlap}` : "",
    load.options.retryRate > 0 ? `retry-rate ${load.options.retryRate}` : "",
    summary.stream ? streamShape(summary.stream) : "",
    summary.sticky ? "sticky" : "",
  ]
    .filter(Boolean)
    .join(", ");
  return (
    `Summary: ${summary.app}/${summary.scenario} (${shape}): ${verdictTag(summary.verdict)}; ` +
    `${t.turnsSent} sent, ${t.acknowledged} acknowledged, ${t.failed} failed, ${t.unknownOutcome} unknown; ` +
    `lost ${t.lost}, stale ${t.stale}, duplicated ${t.duplicated}, out of order ${t.outOfOrder}, ` +
    `interleaved ${t.interleaved}, stale context ${t.staleContext}, unexpected ${t.unexpected}, divergent ${t.divergent}` +
    (load.options.turnLimitPerMinute === undefined ? "" : `, over limit ${t.overLimit}`) +
    (summary.stream ? streamCounts(summary.stream) : "")
  );
}

/** "stream, disconnect-rate 0.5". */
export function streamShape(stream: StreamSummary): string {
  return stream.disconnectRate > 0 ? `stream, disconnect-rate ${stream.disconnectRate}` : "stream";
}

function streamCounts(s: StreamSummary): string {
  return (
    `; streamed ${s.turns}, dropped ${s.dropped}, resumed ${s.resumes} (${s.crossed} on another worker), ` +
    `stream gap ${s.gap}, stream duplicate ${s.duplicate}, stream mismatch ${s.mismatch}`
  );
}

/** Side by side: one column per run, headed by what it is and where its state lives. */
export function renderComparison(summaries: readonly RunSummary[]): string {
  const heading = (s: RunSummary) => {
    const [app = "", ...rest] = labelParts(s);
    return [pc.bold(app), ...rest].join("\n");
  };
  const table = textTable({ head: ["", ...summaries.map(heading)] });
  const row = (label: string, cell: (s: RunSummary) => string) =>
    table.push([label, ...summaries.map(cell)]);
  row("verdict", (s) => verdictTag(s.verdict));
  row("workers", (s) => `${s.workers}${s.sticky ? " (sticky)" : ""}`);
  row("turns acknowledged (HTTP 200)", (s) => `${s.acknowledged} of ${s.turnsSent}`);
  row("acknowledged, missing from every read", (s) =>
    countTag(s.lostEverywhere, pctOf(s.lostEverywhere, s.lostEverywherePct)),
  );
  row("acknowledged, missing from some read", (s) => countTag(s.lost, pctOf(s.lost, s.lostPct)));
  row("share of its history one read shows", (s) =>
    countTag(s.historyVisiblePct < 100 ? 1 : 0, `${s.historyVisiblePct}%`),
  );
  row("replies that missed earlier turns", (s) => countTag(s.stale, pctOf(s.stale, s.stalePct)));
  row("conversations with any anomaly", (s) =>
    countTag(s.conversationsAffected, `${s.conversationsAffected} of ${s.conversations}`),
  );
  if (summaries.some((s) => s.stream)) {
    row(STREAM_LABELS.streams, (s) => (s.stream ? streamsCell(s.stream) : "not streamed"));
    row(STREAM_LABELS.broken, (s) =>
      s.stream
        ? `${countTag(s.stream.gap)} / ${countTag(s.stream.duplicate)} / ${countTag(s.stream.mismatch)}`
        : "-",
    );
  }
  row("workers that served one conversation", (s) => String(s.meanWorkersPerConversation));
  row("acknowledged turns per second", (s) => String(s.turnsPerSecond));
  row("latency p50 / p99", (s) => `${s.p50Ms} / ${s.p99Ms} ms`);
  return table.toString();
}

/**
 * The scenario's lesson under the report: where each variant keeps its state, what goes
 * wrong, where to see it, the fix. A broken run that passed says what hid the bug.
 */
export function renderScenarioNotes(scenario: Scenario, app: AppName, passed = false): string {
  const lines = [pc.bold(`The ${scenario.name} scenario: ${scenario.title}`)];
  lines.push(
    `  ${pc.cyan("state lives")}      broken: ${scenario.keeps.broken} · fixed: ${scenario.keeps.fixed}`,
  );
  const hidden = app === "broken" && passed;
  lines.push(`  ${pc.red("what goes wrong")}  ${scenario.problem}`);
  if (hidden)
    lines.push(`  ${pc.yellow("not this time")}    the verdict line above says what hid it`);
  lines.push(`  ${pc.yellow("in the logs")}      ${scenario.inTheLogs}`);
  lines.push(`  ${pc.green("the fix")}          ${scenario.fix}`);
  const other = app === "fixed" ? "broken" : "fixed";
  lines.push(
    pc.dim(
      `  diff broken/${scenario.name}/chat-service.ts fixed/${scenario.name}/chat-service.ts shows the lesson; compare with npm run demo:${other} -- --scenario ${scenario.name}`,
    ),
  );
  return lines.join("\n");
}
