import Table from "cli-table3";
import pc from "picocolors";
import { countTag, verdictTag } from "../report/palette.ts";
import { round } from "../stats.ts";
import { FAULTS, type FaultName } from "./faults.ts";
import type { ChaosOutcome } from "./outcome.ts";
import { type ChaosCase, RESEND_BACKOFF_MS } from "./run-case.ts";

/** What the fixed app must show under a fault: nothing acknowledged lost, and a verdict. */
function fixedSurvived(c: ChaosCase): boolean {
  const o = c.outcome;
  return !!o && o.struck && o.lost === 0 && o.verdict === "valid" && o.replaced !== false;
}

/** Why the outcomes are unknown: "2 connections dropped, 1 write not confirmed". */
function unknownWhy(o: ChaosOutcome): string {
  const parts = [
    o.unknownConnectionLost > 0
      ? `${o.unknownConnectionLost} ${o.unknownConnectionLost === 1 ? "connection" : "connections"} dropped`
      : "",
    o.unknownTimedOut > 0 ? `${o.unknownTimedOut} no answer in time` : "",
    o.unknownWriteUnconfirmed > 0 ? `${o.unknownWriteUnconfirmed} write not confirmed` : "",
  ].filter(Boolean);
  return parts.join(", ") || "no answer";
}

/** One cell: what one app went through under one fault, a few short lines. */
function cell(c: ChaosCase | undefined): string {
  if (!c) return pc.dim("not run");
  if (c.skipped) return pc.dim(`n/a: ${c.skipped}`);
  const o = c.outcome;
  if (!o) return pc.dim("no result");
  if (!o.struck) return pc.yellow("the run ended before the fault struck: nothing shown");
  const lines = [
    `${verdictTag(o.verdict)}  lost ${countTag(o.lost)} of ${o.acknowledged} acknowledged`,
  ];
  const unsettled = [
    o.unknown > 0 ? `${o.unknown} unknown outcome (${unknownWhy(o)})` : "",
    o.failed > 0 ? `${o.failed} refused` : "",
  ].filter(Boolean);
  if (unsettled.length) lines.push(unsettled.join(", "));
  if (c.event?.victimPid !== undefined) {
    if (o.lost > 0) lines.push(`${o.lostFromVictim} of the lost were answered by the victim`);
    lines.push(o.replaced ? pc.green("worker replaced ✓") : pc.red("worker NOT replaced ✗"));
  }
  const refusals = Object.entries(o.refusals);
  if (refusals.length) {
    const total = refusals.reduce((sum, [, n]) => sum + n, 0);
    lines.push(`${total} refusals, slowest ${round(o.slowestRefusalMs ?? 0)} ms`);
    for (const [label, n] of refusals) lines.push(pc.dim(`  ${label} ×${n}`));
  }
  if (o.recoveryMs !== undefined) {
    lines.push(`next turn acknowledged ${round(o.recoveryMs)} ms after Redis was back`);
  }
  return lines.join("\n");
}

/** The chaos table: one row per fault, the apps that ran side by side. */
export function renderChaosTable(cases: readonly ChaosCase[]): string {
  const faults = [...new Set(cases.map((c) => c.fault))];
  const apps = (["broken", "fixed"] as const).filter((app) => cases.some((c) => c.app === app));
  const label = { broken: "broken (memory)", fixed: "fixed (redis)" };
  const table = new Table({
    head: ["fault", ...apps.map((app) => label[app])].map((h) => pc.bold(h)),
    style: { head: [] },
    colWidths: [30, ...apps.map(() => 44)],
    wordWrap: true,
  });
  const find = (fault: FaultName, app: string) =>
    cases.find((c) => c.fault === fault && c.app === app);
  for (const fault of faults) {
    const first = find(fault, "fixed") ?? find(fault, "broken");
    const struck = first?.event && fault !== "no-fault" ? pc.dim(`\n${first.event.detail}`) : "";
    table.push([
      `${pc.bold(fault)}\n${pc.dim(FAULTS[fault].description)}${struck}`,
      ...apps.map((app) => cell(find(fault, app))),
    ]);
  }
  return table.toString();
}

/** The last line: did the fixed app keep every acknowledged turn under every fault? */
export function chaosVerdictLine(cases: readonly ChaosCase[]): { ok: boolean; line: string } {
  const fixed = cases.filter((c) => c.app === "fixed" && !c.skipped);
  const failing = fixed.filter((c) => !fixedSurvived(c));
  const lost = fixed.reduce((sum, c) => sum + (c.outcome?.lost ?? 0), 0);
  if (fixed.length === 0) return { ok: false, line: "The fixed app did not run: nothing shown." };
  if (failing.length === 0) {
    return {
      ok: true,
      line: pc.green(
        `The fixed app lost 0 acknowledged turns in ${fixed.length === 1 ? "its run" : `all ${fixed.length} runs`} (${fixed.map((c) => c.fault).join(", ")}).`,
      ),
    };
  }
  return {
    ok: false,
    line: pc.red(
      `The fixed app did NOT come through ${failing.map((c) => c.fault).join(", ")}: ${lost} acknowledged ${lost === 1 ? "turn" : "turns"} lost.`,
    ),
  };
}

/** How to read the table, printed under it. */
export function chaosNotes(sticky: boolean): string {
  const lines = [
    "lost: acknowledged (200) turns missing from the final history. Must be 0.",
    "unknown outcome: the answer never came (the worker died with the connection, or Redis died mid-write:",
    "  503 store_write_uncertain). The client cannot know whether it was stored; the checker accepts either.",
    "refusals: 503 store_unavailable means nothing was stored; the load test resends the same turnId",
    `  every ${RESEND_BACKOFF_MS} ms, as a well-behaved client would, so the turn goes through once Redis is back.`,
  ];
  if (sticky) {
    lines.push(
      "sticky routing: each conversation stays on one connection, so on one worker. The broken app looks",
      "  healthy (see no-fault) until a worker goes away, even gracefully: its memory goes with it.",
    );
  }
  return pc.dim(lines.join("\n"));
}
