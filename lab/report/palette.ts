import Table, { type TableConstructorOptions } from "cli-table3";
import pc from "picocolors";
import type { Verdict } from "../check/types.ts";
import { workerColourIndex, workerName } from "./worker-name.ts";

/** None of the verdict colours (green, red, yellow): a worker never reads as a pass or a fail. */
const WORKER_COLOURS = [
  pc.cyan,
  pc.magenta,
  pc.blue,
  pc.cyanBright,
  pc.magentaBright,
  pc.blueBright,
] as const;

/**
 * A cli-table3 table that colours nothing itself: grey borders only where picocolors colours
 * (a terminal or a CI log, without NO_COLOR), plain text in a file or a pipe.
 */
export function textTable(options: TableConstructorOptions = {}): Table.Table {
  const border = pc.isColorSupported ? ["grey"] : [];
  return new Table({ ...options, style: { head: [], border, ...options.style } });
}

/** "w2" (or "h2/w1") in a colour of its own, so a reader can follow one worker down a transcript. */
export function workerTag(workerId: number | undefined, hostname?: string): string {
  if (workerId === undefined) return pc.dim("-");
  const worker = { workerId, hostname };
  const colour = WORKER_COLOURS[workerColourIndex(worker) % WORKER_COLOURS.length] ?? pc.white;
  return colour(workerName(worker));
}

export function verdictTag(verdict: Verdict): string {
  if (verdict === "valid") return pc.bold(pc.green("VALID"));
  if (verdict === "invalid") return pc.bold(pc.red("INVALID"));
  return pc.bold(pc.yellow("UNKNOWN"));
}

/** Red when non-zero, green when zero: anomalies jump out. */
export function countTag(count: number, text = String(count)): string {
  return count > 0 ? pc.red(text) : pc.green(text);
}
