import Table from "cli-table3";
import pc from "picocolors";
import type { AppName, Scenario } from "../../scenarios/catalogue.ts";
import type { CheckResult } from "../check/types.ts";
import type { LoadResult } from "../load/run-load.ts";
import { countTag, verdictTag } from "./palette.ts";
import type { RunSummary } from "./summary.ts";
import { pickConversation, renderTranscript } from "./transcript.ts";
import { clusterShape } from "./worker-name.ts";

/** The full report of one run, meant to be readable when projected in a workshop. */
export function renderReport(summary: RunSummary, load: LoadResult, check: CheckResult): string {
  const t = check.totals;
  const title = `${summary.app} app · scenario ${summary.scenario} · ${summary.workers} worker(s)${summary.sticky ? " · sticky connections" : ""}`;
  const table = new Table({ style: { head: [] } });
  table.push(
    { verdict: verdictTag(summary.verdict) },
    { "turns sent / acknowledged": `${summary.turnsSent} / ${summary.acknowledged}` },
    { "lost turns": countTag(summary.lost, `${summary.lost} (${summary.lostPct}%)`) },
    {
      "history a reader sees (mean)": countTag(
        summary.historyVisiblePct < 100 ? 1 : 0,
        `${summary.historyVisiblePct}% of acknowledged turns`,
      ),
    },
    { "stale replies": countTag(summary.stale, `${summary.stale} (${summary.stalePct}%)`) },
    {
      "conversations affected": countTag(
        summary.conversationsAffected,
        `${summary.conversationsAffected} of ${summary.conversations}`,
      ),
    },
    {
      "duplicated / out of order / unexpected": `${countTag(t.duplicated)} / ${countTag(t.outOfOrder)} / ${countTag(t.unexpected)}`,
    },
    {
      "interleaved / stale context": `${countTag(t.interleaved)} / ${countTag(t.staleContext)}`,
    },
    { "divergent final reads": countTag(t.divergent, `${t.divergent} conversation(s)`) },
    { "failed / unknown outcome": `${t.failed} / ${t.unknownOutcome}` },
    { "acknowledged over the turn limit": overLimitCell(load, check) },
    { "workers per conversation (mean)": String(summary.meanWorkersPerConversation) },
    { throughput: `${summary.turnsPerSecond} turns/s` },
    { "latency p50 / p99": `${summary.p50Ms} ms / ${summary.p99Ms} ms` },
  );
  const lines = [pc.bold(title), table.toString(), summaryLine(summary, load, check)];
  for (const reason of check.reasons)
    lines.push(`  ${summary.verdict === "invalid" ? pc.red("✗") : pc.yellow("?")} ${reason}`);
  const shown = pickConversation(check);
  if (shown) {
    const heading =
      shown.stale + shown.lost > 0
        ? `One conversation where the agent forgets (${shown.conversationId}):`
        : `One conversation, turn by turn (${shown.conversationId}):`;
    lines.push("", pc.bold(heading), renderTranscript(load, shown.conversationId));
  }
  return lines.join("\n");
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
    summary.sticky ? "sticky" : "",
  ]
    .filter(Boolean)
    .join(", ");
  return (
    `Summary: ${summary.app}/${summary.scenario} (${shape}): ${verdictTag(summary.verdict)}; ` +
    `${t.turnsSent} sent, ${t.acknowledged} acknowledged, ${t.failed} failed, ${t.unknownOutcome} unknown; ` +
    `lost ${t.lost}, stale ${t.stale}, duplicated ${t.duplicated}, out of order ${t.outOfOrder}, ` +
    `interleaved ${t.interleaved}, stale context ${t.staleContext}, unexpected ${t.unexpected}, divergent ${t.divergent}` +
    (load.options.turnLimitPerMinute === undefined ? "" : `, over limit ${t.overLimit}`)
  );
}

/** Side by side: one column per run. */
export function renderComparison(summaries: readonly RunSummary[]): string {
  const table = new Table({
    head: ["", ...summaries.map((s) => pc.bold(`${s.app} (${s.scenario})`))],
    style: { head: [] },
  });
  const row = (label: string, cell: (s: RunSummary) => string) =>
    table.push([label, ...summaries.map(cell)]);
  row("verdict", (s) => verdictTag(s.verdict));
  row("workers", (s) => `${s.workers}${s.sticky ? " (sticky)" : ""}`);
  row("turns acknowledged", (s) => `${s.acknowledged} of ${s.turnsSent}`);
  row("lost turns", (s) => countTag(s.lost, `${s.lost} (${s.lostPct}%)`));
  row("history a reader sees", (s) =>
    countTag(s.historyVisiblePct < 100 ? 1 : 0, `${s.historyVisiblePct}%`),
  );
  row("stale replies", (s) => countTag(s.stale, `${s.stale} (${s.stalePct}%)`));
  row("conversations affected", (s) =>
    countTag(s.conversationsAffected, `${s.conversationsAffected} of ${s.conversations}`),
  );
  row("workers per conversation", (s) => String(s.meanWorkersPerConversation));
  row("throughput", (s) => `${s.turnsPerSecond} turns/s`);
  row("latency p50 / p99", (s) => `${s.p50Ms} / ${s.p99Ms} ms`);
  return table.toString();
}

/** The scenario's lesson under the report: what goes wrong, where to see it, the fix. */
export function renderScenarioNotes(scenario: Scenario, app: AppName): string {
  const lines = [pc.bold(`Scenario ${scenario.name}: ${scenario.title}`)];
  lines.push(`  ${pc.red("what goes wrong")}  ${scenario.problem}`);
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
