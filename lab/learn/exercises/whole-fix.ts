import { join } from "node:path";
import type { ScenarioName } from "../../../scenarios/catalogue.ts";
import { runNode } from "./compile.ts";
import { type MissingPart, PROBE_RESULT_PREFIX } from "./parts.ts";
import { ROOT } from "./prepare.ts";

const PROBE = join(ROOT, "lab", "learn", "exercises", "probe-copy.ts");
/** The probes take a few seconds; a copy that hangs them is stopped after this. */
const PROBE_TIMEOUT_MS = 60_000;

export type WholeFixResult =
  | { ok: true; missing: MissingPart[] }
  /** `output`: what the probe process printed. */
  | { ok: false; output: string };

/**
 * The parts of a whole fix the learner's copy lacks (probe-app.ts), found in a child process:
 * a fresh import of the copy on every check, and a hung copy is killed, with its Redis.
 */
export async function checkWholeFix(scenario: ScenarioName): Promise<WholeFixResult> {
  const { code, output } = await runNode(["--import", "tsx", PROBE, scenario], PROBE_TIMEOUT_MS);
  const line = output.split("\n").find((text) => text.startsWith(PROBE_RESULT_PREFIX));
  if (code !== 0 || !line) return { ok: false, output };
  return { ok: true, missing: JSON.parse(line.slice(PROBE_RESULT_PREFIX.length)) as MissingPart[] };
}
