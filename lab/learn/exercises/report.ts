import pc from "picocolors";
import { EXERCISES } from "../../../scenarios/catalogue.ts";
import { exercisesDir } from "../../../scenarios/variant.ts";
import type { CheckOutcome, OutcomeMessage } from "./check.ts";
import { type ListStatus, readStatus } from "./status.ts";

const STYLE: Record<OutcomeMessage["kind"], (text: string) => string> = {
  success: (text) => pc.bold(pc.green(`✓ ${text}`)),
  failure: (text) => pc.bold(pc.red(`✗ ${text}`)),
  reason: (text) => `  ${pc.red("•")} ${text}`,
  missing: (text) => `  ${pc.red("✗")} ${text}`,
  tip: (text) => pc.yellow(text),
  note: (text) => pc.dim(text),
  output: (text) => `    ${text}`,
};

/** The outcome of one check, coloured for a terminal. */
export function renderOutcome(outcome: CheckOutcome): string {
  return outcome.messages.map((message) => STYLE[message.kind](message.text)).join("\n");
}

const STATUS_TEXT: Record<ListStatus, [string, (text: string) => string]> = {
  solved: ["solved", pc.green],
  unsolved: ["not solved", pc.red],
  "does-not-compile": ["does not compile", pc.red],
  "did-not-start": ["app did not start", pc.red],
  error: ["check failed", pc.yellow],
  edited: ["edited since last check", pc.yellow],
  unchecked: ["not checked yet", pc.dim],
  "not-started": ["not started", pc.dim],
};

function statusText(status: ListStatus): string {
  const [text, colour] = STATUS_TEXT[status];
  const width = Math.max(...Object.values(STATUS_TEXT).map(([t]) => t.length));
  return colour(text.padEnd(width));
}

/** Every exercise with its title, and its status when a copy or a cached status exists. */
export async function renderList(dir: string = exercisesDir()): Promise<string> {
  const statuses = await Promise.all(EXERCISES.map((s) => readStatus(s.name, dir)));
  const anyStarted = statuses.some((status) => status !== "not-started");
  const width = Math.max(...EXERCISES.map((s) => s.name.length));
  const rows = EXERCISES.map((s, i) => {
    const status = statuses[i] ?? "not-started";
    const name = pc.bold(s.name.padEnd(width));
    return anyStarted
      ? `  ${name}  ${statusText(status)}  ${pc.dim(s.title)}`
      : `  ${name}  ${s.title}`;
  });
  return [
    "Exercises (fix the broken chat service of each scenario):",
    ...rows,
    "",
    pc.dim("Start one:  npm run exercise -- <name>     (add --watch to recheck on every save)"),
    pc.dim("Start over: npm run exercise -- --reset <name>   (or --reset --all)"),
  ].join("\n");
}
