/**
 * Every workshop scenario, broken then fixed, under the same load; then one table of
 * verdicts against what each scenario is expected to show.
 *   npm run demo:scenarios
 *   npm run demo:scenarios -- --conversations 24 --turns 8 --json .runs/scenarios.json
 */
import { parseArgs } from "node:util";
import pc from "picocolors";
import { COUNT_OF } from "../lab/check/anomaly-counts.ts";
import { type DemoResult, runDemo } from "../lab/learn/demo/run-demo.ts";
import { demoScenariosFlagSpec, parseLoadFlags } from "../lab/load/cli-options.ts";
import { textTable, verdictTag } from "../lab/report/palette.ts";
import { writeJson } from "../lab/report/write-json.ts";
import { type ExpectedAnomaly, SCENARIOS, type ScenarioName } from "../scenarios/catalogue.ts";

const { values } = parseArgs({ options: demoScenariosFlagSpec });
const flags = parseLoadFlags({ conversations: "12", turns: "6", ...values });
const rows: { scenario: ScenarioName; broken: DemoResult; fixed: DemoResult }[] = [];

for (const scenario of SCENARIOS) {
  const name = scenario.name as ScenarioName;
  const run = (app: "broken" | "fixed") => {
    process.stdout.write(pc.dim(`${name}: ${app}... `));
    return runDemo({
      ...flags,
      app,
      scenario: name,
      agentLatencyMs: Number(values["latency-ms"] ?? 5),
      logDir: ".runs",
      progress: false,
    }).then((result) => {
      console.log(verdictTag(result.summary.verdict));
      return result;
    });
  };
  rows.push({ scenario: name, broken: await run("broken"), fixed: await run("fixed") });
}

// One line per scenario, no rules between them: the whole workshop at a glance.
const table = textTable({
  head: ["scenario", "broken verdict", "broken anomalies", "expected", "fixed verdict"].map((h) =>
    pc.bold(h),
  ),
  style: { compact: true },
});
let asExpected = true;
for (const { scenario, broken, fixed } of rows) {
  const expected: readonly ExpectedAnomaly[] =
    SCENARIOS.find((s) => s.name === scenario)?.brokenAnomalies ?? [];
  const t = broken.check.totals;
  const limited = expected.includes("over-limit") || t.overLimit > 0;
  const streamed = t.streamedTurns > 0;
  const seen =
    `lost ${t.lost}, stale ${t.stale}, divergent ${t.divergent}` +
    (limited ? `, over limit ${t.overLimit}` : "") +
    (streamed ? `, stream gap ${t.streamGap}` : "");
  const ok =
    broken.summary.verdict === "invalid" &&
    expected.every((kind) => t[COUNT_OF[kind]] > 0) &&
    fixed.summary.verdict === "valid";
  asExpected &&= ok;
  table.push([
    scenario,
    verdictTag(broken.summary.verdict),
    seen,
    `${expected.join(", ")} ${ok ? pc.green("✓") : pc.red("✗")}`,
    verdictTag(fixed.summary.verdict),
  ]);
}
console.log(`\n${table.toString()}`);
console.log(
  asExpected
    ? pc.green("Every broken variant showed its expected anomalies; every fixed variant was valid.")
    : pc.red("Some scenario did not behave as expected: see the rows marked ✗."),
);
if (flags.json) {
  const brief = ({ summary, check }: DemoResult) => ({ summary, check });
  await writeJson(
    flags.json,
    rows.map((r) => ({ scenario: r.scenario, broken: brief(r.broken), fixed: brief(r.fixed) })),
  );
  console.log(pc.dim(`JSON written to ${flags.json}`));
}
process.exit(asExpected ? 0 : 1);
