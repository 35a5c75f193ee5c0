import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { CheckResult } from "../check/types.ts";
import type { LoadResult } from "../load/run-load.ts";
import type { RunSummary } from "./summary.ts";

/** Everything about one run, for machines: summary, checker result, and every turn and read. */
export interface RunReport {
  summary: RunSummary;
  check: CheckResult;
  load: LoadResult;
}

export async function writeRunReport(file: string, report: RunReport): Promise<void> {
  await writeJson(file, report);
}

export async function writeJson(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
}
