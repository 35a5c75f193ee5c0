import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { barChart } from "./html-chart.ts";
import { html, SafeHtml } from "./html-escape.ts";
import { LOST_COLOUR, STALE_COLOUR, workerColour } from "./html-palette.ts";
import { REPORT_CSS } from "./html-styles.ts";
import { tableBox } from "./html-table.ts";
import { transcriptHtml, workerBadge } from "./html-transcript.ts";
import { labelParts, runLabel, STREAM_LABELS, streamShape } from "./print.ts";
import { pickConversation, transcriptHeading } from "./transcript.ts";
import { verdictSentence } from "./verdict-sentence.ts";
import { clusterShape, type WorkerRef, workerColourIndex, workerLongName } from "./worker-name.ts";
import type { RunReport } from "./write-json.ts";

/**
 * One self-contained HTML page for one or more load runs (broken and fixed side by side):
 * inline CSS, inline SVG, no script and no external resource, so it opens offline and can
 * be mailed around. Every string from a run (texts, replies, ids) is escaped.
 */
export function renderHtmlReport(reports: RunReport[]): string {
  const title =
    reports.length === 1 && reports[0]
      ? `Load run: ${runLabel(reports[0].summary)}`
      : `Load runs: ${reports.map((r) => runLabel(r.summary)).join(" vs ")}`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${new SafeHtml(REPORT_CSS)}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<p class="muted">State not updating when scaling: each acknowledged turn must be in every worker's
history, and the agent must be given every earlier turn. Written ${new Date().toISOString()}.</p>
</header>
<main>
<section class="card" aria-labelledby="summary-title">
<h2 id="summary-title">Summary</h2>
${summaryTable(reports)}
</section>
<div class="apps">${reports.map(appSection)}</div>
</main>
</body>
</html>
`;
  return page.value;
}

/** Writes the report, creating its folder. */
export async function writeHtmlReport(file: string, reports: RunReport[]): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderHtmlReport(reports));
}

/** Where the demos put a report when not told: `.runs/<app>-<scenario>-<time>.html`. */
export function defaultHtmlFile(app: string, scenario: string, dir = ".runs"): string {
  return join(dir, `${app}-${scenario}-${Date.now()}.html`);
}

type Row = [label: string, cell: (r: RunReport) => SafeHtml | string];

const count = (n: number, text: string | number = n) =>
  n > 0 ? html`<span class="bad">${text}</span>` : html`<span class="good">${text}</span>`;

const ROWS: Row[] = [
  ["verdict", (r) => verdictTag(r.summary.verdict)],
  ["workers", (r) => `${r.summary.workers}${r.summary.sticky ? " (sticky)" : ""}`],
  [
    "turns acknowledged (HTTP 200)",
    (r) => `${r.summary.acknowledged} of ${r.summary.turnsSent} sent`,
  ],
  [
    "acknowledged, missing from every read",
    (r) =>
      count(
        r.summary.lostEverywhere,
        `${r.summary.lostEverywhere} (${r.summary.lostEverywherePct}%)`,
      ),
  ],
  [
    "acknowledged, missing from some read",
    (r) => count(r.summary.lost, `${r.summary.lost} (${r.summary.lostPct}%)`),
  ],
  [
    "share of its history one read shows",
    (r) => count(r.summary.historyVisiblePct < 100 ? 1 : 0, `${r.summary.historyVisiblePct}%`),
  ],
  [
    "replies that missed earlier turns",
    (r) => count(r.summary.stale, `${r.summary.stale} (${r.summary.stalePct}%)`),
  ],
  [
    "messages duplicated / out of order / never sent",
    (r) =>
      html`${count(r.check.totals.duplicated)} / ${count(r.check.totals.outOfOrder)} / ${count(r.check.totals.unexpected)}`,
  ],
  [
    "overlapping turns interleaved / answered without earlier ones",
    (r) => html`${count(r.check.totals.interleaved)} / ${count(r.check.totals.staleContext)}`,
  ],
  ["conversations whose reads disagree", (r) => count(r.check.totals.divergent)],
  ["acknowledged over the turn limit", (r) => count(r.check.totals.overLimit)],
  [
    "conversations with any anomaly",
    (r) =>
      count(
        r.summary.conversationsAffected,
        `${r.summary.conversationsAffected} of ${r.summary.conversations}`,
      ),
  ],
  [
    "turns refused (nothing stored) / outcome unknown",
    (r) => `${r.check.totals.failed} / ${r.check.totals.unknownOutcome}`,
  ],
  [
    "workers that served one conversation (mean)",
    (r) => String(r.summary.meanWorkersPerConversation),
  ],
  ["acknowledged turns per second", (r) => String(r.summary.turnsPerSecond)],
  ["latency p50 / p99", (r) => `${r.summary.p50Ms} / ${r.summary.p99Ms} ms`],
];

/** Shown when any of the runs streamed its turns, after "conversations whose reads disagree". */
const STREAM_ROWS: Row[] = [
  [
    STREAM_LABELS.streams,
    ({ summary: { stream } }) =>
      stream
        ? html`${stream.turns}: ${stream.dropped} dropped, ${count(stream.dropped > 0 && stream.crossed === 0 ? 1 : 0, `${stream.crossed} of ${stream.resumes} resumes on another worker`)}`
        : "not streamed",
  ],
  [
    STREAM_LABELS.broken,
    ({ summary: { stream } }) =>
      stream
        ? html`${count(stream.gap)} / ${count(stream.duplicate)} / ${count(stream.mismatch)}`
        : "-",
  ],
];

/** The summary's rows for these runs: the stream rows only when one of them streamed. */
function rowsFor(reports: RunReport[]): Row[] {
  if (!reports.some((r) => r.summary.stream)) return ROWS;
  const at = ROWS.findIndex(([label]) => label === "conversations whose reads disagree") + 1;
  return [...ROWS.slice(0, at), ...STREAM_ROWS, ...ROWS.slice(at)];
}

function summaryTable(reports: RunReport[]): SafeHtml {
  const head = reports.map(
    (r) =>
      html`<th scope="col">${r.summary.app} <span class="muted">${labelParts(r.summary).slice(1).join(" · ")}</span></th>`,
  );
  const rows = rowsFor(reports).map(
    ([label, cell]) =>
      html`<tr><th scope="row">${label}</th>${reports.map((r) => html`<td>${cell(r)}</td>`)}</tr>`,
  );
  return tableBox(
    html`<table class="summary"><thead><tr><td></td>${head}</tr></thead><tbody>${rows}</tbody></table>`,
  );
}

function verdictTag(verdict: string): SafeHtml {
  return html`<span class="verdict ${verdict}">${verdict.toUpperCase()}</span>`;
}

function appSection(report: RunReport): SafeHtml {
  const { summary, check, load } = report;
  const o = load.options;
  const id = `app-${summary.app}-${summary.scenario}`.replaceAll(/[^A-Za-z0-9_-]/g, "-");
  const shape = [
    `${o.conversations} conversations × ${o.turns} turns`,
    `${o.connections} connections`,
    clusterShape(summary.workers, o.hosts?.length ?? 1),
    o.sticky ? "sticky" : "",
    o.overlap > 1 ? `overlap ${o.overlap}` : "",
    o.retryRate > 0 ? `retry-rate ${o.retryRate}` : "",
    summary.stream ? streamShape(summary.stream) : "",
    `seed ${load.seed}`,
    `run ${load.runId}`,
    `${Math.round(load.durationMs)} ms`,
  ].filter(Boolean);
  const shown = pickConversation(check);
  return html`<section class="card" aria-labelledby="${id}">
<h2 id="${id}">${runLabel(summary)} ${verdictTag(summary.verdict)}</h2>
<p class="verdict-sentence">${verdictSentence(summary, check)}</p>
<p class="run">${shape.join(" · ")}</p>
${check.reasons.length ? html`<ul class="reasons">${check.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ""}
<h3>Lost and stale turns per conversation</h3>
${lostStaleChart(report)}
<h3>Acknowledged turns per worker</h3>
${workerChart(report)}
<h3>${shown ? transcriptHeading(shown, "A") : "One conversation, turn by turn"}</h3>
${shown ? transcriptHtml(load, shown.conversationId) : html`<p class="muted">No acknowledged turn.</p>`}
</section>`;
}

function lostStaleChart({ check }: RunReport): SafeHtml {
  const conversations = check.conversations;
  const chart = barChart({
    description: `Lost and stale turns for each of ${conversations.length} conversations; ${check.totals.lost} lost and ${check.totals.stale} stale in all.`,
    groupKind: "conversation",
    groups: conversations.map((c, i) => ({
      label: String(i + 1),
      key: c.conversationId,
      bars: [
        { value: c.lost, colour: LOST_COLOUR, label: `${c.conversationId}: ${c.lost} lost` },
        { value: c.stale, colour: STALE_COLOUR, label: `${c.conversationId}: ${c.stale} stale` },
      ],
    })),
    legend: [
      { label: "lost (acknowledged, missing from a final read)", colour: LOST_COLOUR },
      { label: "stale (agent given less than was acknowledged)", colour: STALE_COLOUR },
    ],
  });
  const rows = conversations.map(
    (c, i) =>
      html`<tr><td class="num">${i + 1}</td><td><code>${c.conversationId}</code></td><td class="num">${c.acknowledged}</td><td class="num">${count(c.lost)}</td><td class="num">${count(c.stale)}</td><td class="num">${c.distinctWorkers}</td></tr>`,
  );
  const none =
    check.totals.lost + check.totals.stale === 0
      ? html`<p class="good">No lost and no stale turn: every bar is zero.</p>`
      : "";
  return html`${chart}${none}<details><summary>The numbers, per conversation</summary>
${tableBox(html`<table><thead><tr><th scope="col">#</th><th scope="col">conversation</th><th scope="col">acknowledged</th><th scope="col">lost</th><th scope="col">stale</th><th scope="col">workers</th></tr></thead><tbody>${rows}</tbody></table>`)}</details>`;
}

function workerChart({ load }: RunReport): SafeHtml {
  // Keyed by host and worker: worker 1 of host 1 and worker 1 of host 2 are two bars.
  const perWorker = new Map<string, { worker: WorkerRef; turns: number }>();
  for (const turn of load.turns) {
    if (turn.outcome !== "ok" || !turn.servedBy) continue;
    const name = workerLongName(turn.servedBy);
    const entry = perWorker.get(name) ?? { worker: turn.servedBy, turns: 0 };
    entry.turns++;
    perWorker.set(name, entry);
  }
  const workers = [...perWorker.entries()]
    .sort(([, a], [, b]) => workerColourIndex(a.worker) - workerColourIndex(b.worker))
    .map(([name, entry]) => ({ name, ...entry }));
  if (workers.length === 0) return html`<p class="muted">No acknowledged turn.</p>`;
  const chart = barChart({
    description: `Acknowledged turns per worker: ${workers.map((w) => `${w.name} ${w.turns}`).join(", ")}.`,
    groupKind: "worker",
    groups: workers.map(({ name, worker, turns }) => ({
      label: name,
      key: name,
      bars: [
        {
          value: turns,
          colour: workerColour(workerColourIndex(worker)).strong,
          label: `${name}: ${turns} turns`,
        },
      ],
    })),
    showValues: true,
  });
  const list = workers.map(
    ({ worker, turns }) => html`<li>${workerBadge(worker)} ${turns} turns</li>`,
  );
  return html`${chart}<ul class="reads">${list}</ul>`;
}
