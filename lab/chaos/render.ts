import pc from "picocolors";
import { getScenario } from "../../scenarios/catalogue.ts";
import { countTag, textTable, verdictTag } from "../report/palette.ts";
import { round } from "../stats.ts";
import { FAULTS, type FaultName } from "./faults.ts";
import type { ChaosOutcome } from "./outcome.ts";
import { CHAOS_TURN_LEASE_MS, type ChaosCase, RESEND_BACKOFF_MS } from "./run-case.ts";
import type { StreamCuts } from "./stream-cuts.ts";
import {
  CATEGORY_LABEL,
  CATEGORY_MEANING,
  CATEGORY_TABLE,
  NO_ANSWER_LABEL,
  TURN_CATEGORIES,
  type TurnCategory,
} from "./turn-categories.ts";

/** What the fixed app must show under a fault: nothing acknowledged lost, and a verdict. */
function fixedSurvived(c: ChaosCase): boolean {
  const o = c.outcome;
  return !!o && o.struck && o.lost === 0 && o.verdict === "valid" && o.replaced !== false;
}

/** "146 acknowledged, 0 refused, 0 uncertain, 2 no answer": every category, zeros too. */
export function turnsSummary(turns: Record<TurnCategory, number>): string {
  return categoryCounts(turns, TURN_CATEGORIES);
}

function categoryCounts(turns: Record<TurnCategory, number>, of: readonly TurnCategory[]): string {
  return of.map((c) => `${turns[c]} ${CATEGORY_LABEL[c]}`).join(", ");
}

/** The turns summary on two lines of the cell's width, so they add up at a glance. */
function turnsLines(o: ChaosOutcome): string[] {
  return [
    `${o.turnsSent} turns sent: ${categoryCounts(o.turns, ["acknowledged"])},`,
    `  ${categoryCounts(o.turns, ["refused", "uncertain", "noAnswer"])}`,
  ];
}

/** What put the turns that were not acknowledged there: "2 no answer:" / "  connection dropped ×2". */
function causeLines(o: ChaosOutcome): string[] {
  return TURN_CATEGORIES.filter((c) => c !== "acknowledged" && o.turns[c] > 0).flatMap((c) => [
    `${o.turns[c]} ${CATEGORY_LABEL[c]}:`,
    ...timesLines(o.causes[c]),
  ]);
}

/** "  HTTP 503 store_unavailable ×41", one line each, so none is cut at the cell's edge. */
function timesLines(counts: Record<string, number>): string[] {
  return Object.entries(counts).map(([label, n]) => pc.dim(`  ${label} ×${n}`));
}

function refusedSendLines(o: ChaosOutcome): string[] {
  const total = Object.values(o.refusedSends).reduce((sum, n) => sum + n, 0);
  if (total === 0) return [];
  return [
    `${total} ${total === 1 ? "send" : "sends"} refused, slowest ${round(o.slowestRefusalMs ?? 0)} ms`,
    ...timesLines(o.refusedSends),
  ];
}

function uncertainSendLines(o: ChaosOutcome): string[] {
  const total = Object.values(o.uncertainSends).reduce((sum, n) => sum + n, 0);
  if (total === 0) return [];
  return [
    `${total} ${total === 1 ? "send" : "sends"} unconfirmed, resent`,
    ...timesLines(o.uncertainSends),
  ];
}

function workerLines(c: ChaosCase, o: ChaosOutcome): string[] {
  if (c.event?.victimPid === undefined) return [];
  return [
    ...(o.lost > 0 ? [`${o.lostFromVictim} of the lost were answered by the victim`] : []),
    o.replaced ? pc.green("worker replaced ✓") : pc.red("worker NOT replaced ✗"),
  ];
}

/** "4 streams cut mid-reply:" then where they resumed, how they ended, what became of them. */
function streamCutLines(cuts: StreamCuts | undefined): string[] {
  if (!cuts) return [];
  if (cuts.cut === 0) return [pc.red("the kill cut no stream: nothing shown ✗")];
  return [
    `${cuts.cut} ${cuts.cut === 1 ? "stream" : "streams"} cut mid-reply by the kill:`,
    `  resumed on another worker ×${cuts.resumedElsewhere}`,
    ...Object.entries(cuts.ends).flatMap(([end, n]) => endLines(end, n, cuts)),
    ...(cuts.resent > 0 ? [`  resent with their turnIds ×${cuts.resent}`] : []),
    ...storedOnceLines(cuts),
    ...(cuts.streamGaps > 0 ? [`  the rest of the reply lost ×${cuts.streamGaps}`] : []),
  ];
}

/** "each stored once ×4" when every cut turn was; else how many of them. */
function storedOnceLines({ storedOnce, turns }: StreamCuts): string[] {
  if (storedOnce === 0) return [];
  return [
    storedOnce === turns
      ? `  each stored once ×${storedOnce}`
      : `  stored once: ${storedOnce} of ${turns}`,
  ];
}

/** How the resumed streams ended: "ended turn_interrupted ×4" and when, "answered HTTP 404 ×4". */
function endLines(end: string, n: number, cuts: StreamCuts): string[] {
  if (end === "turn_interrupted" || end === "done") {
    const after = cuts.interruptedAfterMs;
    const when =
      end === "turn_interrupted" && after
        ? [pc.dim(`    ${msRange(after.min, after.max)} after the kill`)]
        : [];
    return [`  ended ${end} ×${n}`, ...when];
  }
  return [`  ${end.startsWith("HTTP") ? `answered ${end}` : end} ×${n}`];
}

function msRange(min: number, max: number): string {
  const [a, b] = [Math.round(min), Math.round(max)];
  return a === b ? `${a} ms` : `${a}-${b} ms`;
}

/** One cell: what one app went through under one fault, a few short lines. */
function cell(c: ChaosCase | undefined): string {
  if (!c) return pc.dim("not run");
  if (c.skipped) return pc.dim(`n/a: ${c.skipped}`);
  const o = c.outcome;
  if (!o) return pc.dim("no result");
  if (!o.struck) return pc.yellow("the run ended before the fault struck: nothing shown");
  const recovery =
    o.recoveryMs === undefined
      ? []
      : [`next turn acknowledged ${round(o.recoveryMs)} ms after Redis was back`];
  return [
    `${verdictTag(o.verdict)}  lost ${countTag(o.lost)} of ${o.turns.acknowledged} acknowledged`,
    ...turnsLines(o),
    ...causeLines(o),
    ...workerLines(c, o),
    ...streamCutLines(o.streamCuts),
    ...refusedSendLines(o),
    ...uncertainSendLines(o),
    ...recovery,
  ].join("\n");
}

/** The chaos table: one row per fault, the apps that ran side by side. */
export function renderChaosTable(cases: readonly ChaosCase[]): string {
  const faults = [...new Set(cases.map((c) => c.fault))];
  const apps = (["broken", "fixed"] as const).filter((app) => cases.some((c) => c.app === app));
  // The chaos runs the memory scenario: the app, then where it keeps its history.
  const label = (app: "broken" | "fixed") => `${pc.bold(app)}\n${getScenario("memory").keeps[app]}`;
  const table = textTable({
    head: [pc.bold("fault"), ...apps.map(label)],
    colWidths: [30, ...apps.map(() => 44)],
    wordWrap: true,
  });
  const find = (fault: FaultName, app: string) =>
    cases.find((c) => c.fault === fault && c.app === app);
  for (const fault of faults) {
    const first = find(fault, "fixed") ?? find(fault, "broken");
    const struck = first?.event && fault !== "no-fault" ? pc.dim(`\n${first.event.detail}`) : "";
    table.push([
      `${pc.bold(fault)}\n${pc.dim(FAULTS[fault].description)}${pairLine(fault)}${struck}`,
      ...apps.map((app) => cell(find(fault, app))),
    ]);
  }
  return table.toString();
}

/** A row that runs another scenario's apps than the header's says which, and what they keep. */
function pairLine(fault: FaultName): string {
  const name = FAULTS[fault].scenario;
  if (!name || name === "memory") return "";
  const { keeps } = getScenario(name);
  return pc.dim(`\nthe ${name} apps: broken keeps its ${keeps.broken}, fixed its ${keeps.fixed}`);
}

/** A row that shows a setting's cost did show it: the fault struck and turns were lost. */
function lessonShown(c: ChaosCase): boolean {
  return !!c.outcome?.struck && c.outcome.lost > 0;
}

/**
 * A row about cut streams showed what it is for: the kill cut some, and each was, in the fixed
 * app, resumed elsewhere to `turn_interrupted`, resent and stored once; in the broken app,
 * caught by the checker as a reply the client never got whole (stream-gap).
 */
function streamLessonShown(c: ChaosCase): boolean {
  const cuts = c.outcome?.streamCuts;
  if (!cuts || cuts.cut === 0) return false;
  if (c.app !== "fixed") return c.outcome?.verdict === "invalid" && cuts.streamGaps === cuts.turns;
  return (
    cuts.resumedElsewhere === cuts.cut &&
    cuts.ends.turn_interrupted === cuts.cut &&
    cuts.resent === cuts.turns &&
    cuts.storedOnce === cuts.turns
  );
}

function streamLessonLine(c: ChaosCase): string {
  const cuts = c.outcome?.streamCuts;
  const row = `${c.fault} (${c.app})`;
  if (!cuts || cuts.cut === 0) {
    return pc.red(`${row}: the kill cut no stream: the run did not show what the row is for.`);
  }
  const streams = `${cuts.cut} ${cuts.cut === 1 ? "stream" : "streams"} cut mid-reply`;
  const shown = streamLessonShown(c);
  if (c.app === "fixed") {
    return shown
      ? pc.green(
          `${row}: ${streams}; each, resumed on another worker, ended turn_interrupted once the lease lapsed, was resent with its turnId and stored once.`,
        )
      : pc.red(
          `${row}: ${streams}, but not each ended turn_interrupted, was resent and stored once (${endsText(cuts)}; ${cuts.storedOnce} stored once).`,
        );
  }
  return shown
    ? pc.yellow(
        `${row}: ${streams}; the rest of each reply died with the worker's memory (stream-gap), as it is meant to.`,
      )
    : pc.red(`${row}: ${streams}, but the checker did not catch each lost reply as stream-gap.`);
}

/** "turn_interrupted ×3, done ×1" */
function endsText(cuts: StreamCuts): string {
  return Object.entries(cuts.ends)
    .map(([end, n]) => `${end} ×${n}`)
    .join(", ");
}

/**
 * The last line: did the fixed app keep every acknowledged turn under every fault, did each
 * row that is meant to lose (a weaker setting, see Fault.meantToLose) lose some, and did each
 * row about cut streams (Fault.cutsStreams) cut some and show what each app does with them?
 */
export function chaosVerdictLine(cases: readonly ChaosCase[]): { ok: boolean; line: string } {
  const fixed = cases.filter((c) => c.app === "fixed" && !c.skipped);
  const meantToLose = fixed.filter((c) => FAULTS[c.fault].meantToLose);
  const mustKeep = fixed.filter((c) => !FAULTS[c.fault].meantToLose);
  const failing = mustKeep.filter((c) => !fixedSurvived(c));
  const unshown = meantToLose.filter((c) => !lessonShown(c));
  const lost = mustKeep.reduce((sum, c) => sum + (c.outcome?.lost ?? 0), 0);
  if (fixed.length === 0) return { ok: false, line: "The fixed app did not run: nothing shown." };
  const lines: string[] = [];
  if (failing.length > 0) {
    lines.push(
      pc.red(
        `The fixed app did NOT come through ${failing.map((c) => c.fault).join(", ")}: ${lost} acknowledged ${lost === 1 ? "turn" : "turns"} lost.`,
      ),
    );
  } else if (mustKeep.length > 0) {
    lines.push(
      pc.green(
        `The fixed app lost 0 acknowledged turns in ${mustKeep.length === 1 ? "its run" : `all ${mustKeep.length} runs`} (${mustKeep.map((c) => c.fault).join(", ")}).`,
      ),
    );
  }
  for (const c of meantToLose) {
    const lostHere = c.outcome?.lost ?? 0;
    lines.push(
      lessonShown(c)
        ? pc.yellow(
            `${c.fault}: lost ${lostHere} acknowledged, as it is meant to: ${FAULTS[c.fault].meantToLose}.`,
          )
        : pc.red(`${c.fault} lost nothing: the run did not show what the row is for.`),
    );
  }
  const streamRows = cases.filter((c) => !c.skipped && FAULTS[c.fault].cutsStreams);
  lines.push(...streamRows.map(streamLessonLine));
  const ok = failing.length === 0 && unshown.length === 0 && streamRows.every(streamLessonShown);
  return { ok, line: lines.join("\n") };
}

/** How to read a row about cut streams. */
function streamCutNotes(timeoutSeconds: number): string[] {
  return [
    "streams cut: replies the killed worker was streaming, each part-way through (every turn is",
    "  streamed). The client resumes each with Last-Event-ID on a fresh connection to another worker.",
    "  The fixed app's stream is in Redis: the resume gets any events it missed, then, once the dead",
    "  worker's lease on the turn lapses, event: error turn_interrupted (nothing stored); the client",
    "  resends the turn with its turnId, and it runs once. The broken app's stream was in the dead",
    "  worker's memory: the resume is answered 404 and the rest of the reply is lost (stream-gap).",
    `  The row's client waits up to ${timeoutSeconds} s for the next byte (the lease is ${CHAOS_TURN_LEASE_MS / 1000} s): a resumed`,
    "  stream is silent until the lease lapses.",
  ];
}

/** How to read the table, printed under it; the categories come from CATEGORY_TABLE. */
export function chaosNotes(options: {
  sticky: boolean;
  timeoutSeconds: number;
  /** Set when a row about cut streams ran: how long its client waited for a byte, in s. */
  streamTimeoutSeconds?: number;
}): string {
  const lines = [
    "Every turn sent counts in exactly one of four categories; they add up to the turns sent.",
    ...TURN_CATEGORIES.map((c) => categoryNote(c, options.timeoutSeconds)),
    "  The checker accepts an uncertain or no-answer turn stored or not.",
    "lost: acknowledged turns missing from the final history (the fixed app must show 0; the broken",
    "  one is expected to lose some under these faults).",
    "sends refused: counts sends, not turns. A turn refused with HTTP 503 or 409 is resent with the",
    `  same turnId every ${RESEND_BACKOFF_MS} ms, as a well-behaved client would, so during an outage it can be`,
    "  refused many times and still end acknowledged once Redis is back.",
    "sends unconfirmed: sends answered HTTP 503 store_write_uncertain (say, no replica confirmed the",
    "  write in time); the client resends those with the same turnId too, and the turnId settles it:",
    "  answered from the store once a replica has it, or run again if the failover lost it.",
  ];
  if (options.sticky) {
    lines.push(
      "sticky routing: each conversation stays on one connection, so on one worker. The broken app looks",
      "  healthy (see no-fault) until a worker goes away, even gracefully: its memory goes with it.",
    );
  }
  if (options.streamTimeoutSeconds !== undefined) {
    lines.push(...streamCutNotes(options.streamTimeoutSeconds));
  }
  return pc.dim(lines.join("\n"));
}

/** "  refused: a definite refusal ...:" then its answers, wrapped between labels. */
function categoryNote(category: TurnCategory, timeoutSeconds: number): string {
  const labels = CATEGORY_TABLE.filter((row) => row.category === category).map((row) =>
    row.label === NO_ANSWER_LABEL.timeout ? `${row.label} (${timeoutSeconds} s)` : row.label,
  );
  return [
    `  ${CATEGORY_LABEL[category]}: ${CATEGORY_MEANING[category]}:`,
    ...wrapList(labels),
  ].join("\n");
}

/** "a, b, c" over lines of up to 100 characters, indented, never breaking inside an item. */
function wrapList(items: readonly string[], width = 100, indent = "    "): string[] {
  const lines: string[] = [];
  let line = "";
  for (const [i, item] of items.entries()) {
    const piece = i < items.length - 1 ? `${item},` : item;
    if (line && indent.length + line.length + 1 + piece.length > width) {
      lines.push(indent + line);
      line = piece;
    } else line = line ? `${line} ${piece}` : piece;
  }
  return [...lines, indent + line];
}
