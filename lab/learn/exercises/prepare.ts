import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { getScenario, type Scenario, type ScenarioName } from "../../../scenarios/catalogue.ts";
import { exercisesDir } from "../../../scenarios/variant.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Appended to each line of the learner's copy that the reference solution changes. */
export const TODO_MARKER = "// TODO(exercise): the reference solution changes this line";

/** File name of the status cache, next to the learner's copy. */
export const STATUS_FILE = ".status.json";

/** The learner's copy of one scenario: `<exercisesDir>/<scenario>/chat-service.ts`. */
export function exerciseFile(scenario: ScenarioName, dir: string = exercisesDir()): string {
  return join(dir, scenario, "chat-service.ts");
}

/** `broken/<scenario>/chat-service.ts` or `fixed/<scenario>/chat-service.ts`. */
export function variantFile(variant: "broken" | "fixed", scenario: ScenarioName): string {
  return join(ROOT, variant, scenario, "chat-service.ts");
}

/**
 * Variants import shared code as `"../../service/..."` or `"../../scenarios/..."` (they live
 * two levels below the root). Rewrites those imports so they resolve from `destDir`.
 */
export function rewriteImports(source: string, destDir: string): string {
  return source.replace(
    /(["'])\.\.\/\.\.\/([\w-]+)\//g,
    (_match, quote: string, folder: string) => {
      let path = relative(destDir, join(ROOT, folder)).split(sep).join("/");
      if (!path.startsWith(".")) path = `./${path}`;
      return `${quote}${path}/`;
    },
  );
}

/**
 * Indexes (0-based) of the lines of `from` that a line diff against `to` removes: the
 * lines outside a longest common subsequence (lines compared without surrounding spaces).
 */
export function removedLines(from: string, to: string): number[] {
  const a = from.split("\n").map((line) => line.trim());
  const b = to.split("\n").map((line) => line.trim());
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    const row = lcs[i] as number[];
    const next = lcs[i + 1] as number[];
    for (let j = b.length - 1; j >= 0; j--) {
      row[j] =
        a[i] === b[j]
          ? (next[j + 1] as number) + 1
          : Math.max(next[j] as number, row[j + 1] as number);
    }
  }
  const removed: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length) {
    if (j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (lcs[i]?.[j + 1] as number) >= (lcs[i + 1]?.[j] as number)) {
      j++;
    } else {
      removed.push(i++);
    }
  }
  return removed;
}

/** Blank lines and comment lines carry no behaviour: no marker there. */
function isCode(line: string): boolean {
  const text = line.trim();
  return text !== "" && !/^(\/\/|\/\*|\*)/.test(text);
}

/** The lines of the broken variant to mark: code lines a line diff against the fixed one removes. */
export function todoLines(broken: string, fixed: string): number[] {
  const lines = broken.split("\n");
  return removedLines(broken, fixed).filter((index) => isCode(lines[index] ?? ""));
}

function wrap(text: string, width = 88): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** The comment at the top of a learner's copy: what is wrong, what to make true, how to check. */
export function exerciseHeader(scenario: Scenario): string {
  const command = `npm run exercise -- ${scenario.name}`;
  const paragraphs = [
    [`Exercise "${scenario.name}": ${scenario.title}.`],
    wrap(`The problem: ${scenario.problem}`),
    wrap(
      "TODO: make this chat service keep every conversation's history complete and up to date, " +
        "whichever worker serves each turn: every acknowledged turn is stored, and every reply is " +
        "generated from the whole history before it. The checker must say VALID with 4 workers." +
        (scenario.brokenWithOneWorker
          ? " This one is broken even with a single worker: it is not only about routing."
          : ""),
    ),
    wrap(`Hint: ${scenario.hint}`),
    wrap(
      `Lines marked "TODO(exercise)" are the ones the reference solution changes (it may add ` +
        "lines too). Change only this file; what it imports lives in service/ and scenarios/.",
    ),
    [
      `Check:      ${command}`,
      `On save:    ${command} --watch`,
      `Start over: npm run exercise -- --reset ${scenario.name}`,
    ],
  ];
  const body = paragraphs
    .map((lines) => lines.map((line) => ` * ${line.replaceAll("*/", "* /")}`).join("\n"))
    .join("\n *\n");
  return `/*\n${body}\n */\n`;
}

/** The learner's copy of the broken variant: header, TODO markers, imports that resolve from `destDir`. */
export function renderExercise(
  scenario: Scenario,
  broken: string,
  fixed: string,
  destDir: string,
): string {
  const marked = new Set(todoLines(broken, fixed));
  const lines = broken
    .split("\n")
    .map((line, index) => (marked.has(index) ? `${line} ${TODO_MARKER}` : line));
  return exerciseHeader(scenario) + rewriteImports(lines.join("\n"), destDir);
}

/**
 * Writes `<dir>/<scenario>/chat-service.ts`: the exercise (from the broken variant, with
 * header and markers) or the reference solution (the fixed variant as is). Both get their
 * `../../` imports rewritten for the destination. Returns the file written.
 */
export async function writeExerciseCopy(
  name: ScenarioName,
  from: "broken" | "fixed" = "broken",
  dir: string = exercisesDir(),
): Promise<string> {
  const file = exerciseFile(name, dir);
  const destDir = dirname(file);
  const broken = await readFile(variantFile("broken", name), "utf8");
  const fixed = await readFile(variantFile("fixed", name), "utf8");
  const text =
    from === "broken"
      ? renderExercise(getScenario(name), broken, fixed, destDir)
      : rewriteImports(fixed, destDir);
  await mkdir(destDir, { recursive: true });
  await writeFile(file, text);
  // A status cached for an earlier version of the file no longer says anything.
  await rm(join(destDir, STATUS_FILE), { force: true });
  return file;
}

/** Creates the learner's copy unless it exists; `created` says which. */
export async function ensureExercise(
  name: ScenarioName,
  dir: string = exercisesDir(),
): Promise<{ file: string; created: boolean }> {
  const file = exerciseFile(name, dir);
  if (existsSync(file)) return { file, created: false };
  return { file: await writeExerciseCopy(name, "broken", dir), created: true };
}

export interface ResetResult {
  file: string;
  /** Where the learner's previous version was kept, when there was one that differed. */
  backup?: string;
}

/** Restores the learner's copy from the broken variant; keeps a changed previous version as `.bak`. */
export async function resetExercise(
  name: ScenarioName,
  dir: string = exercisesDir(),
): Promise<ResetResult> {
  const file = exerciseFile(name, dir);
  const fresh = renderExercise(
    getScenario(name),
    await readFile(variantFile("broken", name), "utf8"),
    await readFile(variantFile("fixed", name), "utf8"),
    dirname(file),
  );
  let backup: string | undefined;
  if (existsSync(file) && (await readFile(file, "utf8")) !== fresh) {
    backup = `${file}.bak`;
    await rename(file, backup);
  }
  await writeExerciseCopy(name, "broken", dir);
  return backup ? { file, backup } : { file };
}
