import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { getScenario, type Scenario, type ScenarioName } from "../../../scenarios/catalogue.ts";
import { exercisesDir } from "../../../scenarios/variant.ts";
import { partDemand, partsFor } from "./parts.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Appended to the line declaring each place (a field, a method, ...) that a whole fix changes. */
export const TODO_MARKER = "// TODO(exercise): the reference solution changes this";

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

/** One step of a line diff: a line both have, a line of `from` removed, or line `line` of `to` added before line `at` of `from`. */
export type LineEdit =
  | { op: "keep" | "remove"; at: number }
  | { op: "add"; at: number; line: number };

/**
 * A line diff from `from` to `to` along a longest common subsequence of their lines
 * (compared without surrounding spaces), in order.
 */
export function lineDiff(from: string, to: string): LineEdit[] {
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
  const edits: LineEdit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      edits.push({ op: "keep", at: i++ });
      j++;
    } else if (
      j < b.length &&
      (i === a.length || (lcs[i]?.[j + 1] as number) >= (lcs[i + 1]?.[j] as number))
    ) {
      edits.push({ op: "add", at: i, line: j++ });
    } else {
      edits.push({ op: "remove", at: i++ });
    }
  }
  return edits;
}

/** Indexes (0-based) of the lines of `from` that a line diff against `to` removes. */
export function removedLines(from: string, to: string): number[] {
  return lineDiff(from, to).flatMap((edit) => (edit.op === "remove" ? [edit.at] : []));
}

/** Blank lines and comment lines carry no behaviour: no marker there. */
function isCode(line: string): boolean {
  const text = line.trim();
  return text !== "" && !/^(\/\/|\/\*|\*)/.test(text);
}

/**
 * What a line belongs to, as a learner reads the file: an import, a top-level declaration
 * (a class, a function, a type), or a member of a class (a field, the constructor, a method).
 * `line` is where it is declared; a member's `parent` is its class.
 */
interface Place {
  line: number;
  kind: "import" | "class" | "member" | "declaration";
  parent?: Place;
}

/** Column 0, a word: `import`, `export`, `class`, `const`, ... (not a comment, not a closing bracket). */
const TOP_LEVEL = /^[A-Za-z]/;
/** Two spaces in, a word: a class member as Biome formats it (its body is deeper). */
const MEMBER = /^ {2}[A-Za-z#_$[]/;
const CLASS = /^(export\s+)?(default\s+)?(abstract\s+)?class\b/;

function topLevelPlace(line: string, at: number): Place {
  const kind = /^import\b/.test(line) ? "import" : CLASS.test(line) ? "class" : "declaration";
  return { line: at, kind };
}

/** The place each line of `source` belongs to (undefined before the first declaration). */
export function placesOf(source: string): (Place | undefined)[] {
  let top: Place | undefined;
  let member: Place | undefined;
  let inClassBody = false;
  return source.split("\n").map((line, at) => {
    if (TOP_LEVEL.test(line)) {
      top = topLevelPlace(line, at);
      member = undefined;
      // `class X extends Y {}` on one line has no body.
      inClassBody = top.kind === "class" && !/\}\s*$/.test(line);
    } else if (inClassBody && MEMBER.test(line)) {
      member = { line: at, kind: "member", parent: top };
    } else if (inClassBody && line.startsWith("}")) {
      member = undefined;
      inClassBody = false;
    }
    return member ?? top;
  });
}

/** The place around an insertion before line `at`: the one both neighbouring code lines share. */
function placeAround(
  at: number,
  lines: string[],
  places: (Place | undefined)[],
): Place | undefined {
  let above = at - 1;
  while (above >= 0 && !isCode(lines[above] ?? "")) above--;
  let below = at;
  while (below < lines.length && !isCode(lines[below] ?? "")) below++;
  const place = places[above];
  // Between two places, an insertion is a new one (a new method, an import): nothing to mark.
  return place && place === places[below] ? place : undefined;
}

/** The places the diff against `fixed` touches: removed code lines, and code added inside. */
function touchedPlaces(broken: string, fixed: string): Set<Place> {
  const lines = broken.split("\n");
  const added = fixed.split("\n");
  const places = placesOf(broken);
  const touched = new Set<Place>();
  for (const edit of lineDiff(broken, fixed)) {
    const place =
      edit.op === "remove" && isCode(lines[edit.at] ?? "")
        ? places[edit.at]
        : edit.op === "add" && isCode(added[edit.line] ?? "")
          ? placeAround(edit.at, lines, places)
          : undefined;
    if (place) touched.add(place);
  }
  return touched;
}

/**
 * The lines of the broken variant to mark: one per place a whole fix changes, on the line
 * that declares it. Imports are not places (they follow from the code); a class is one only
 * when none of its members is (the members say where to look).
 */
export function todoLines(broken: string, fixed: string): number[] {
  const touched = touchedPlaces(broken, fixed);
  const hasTouchedMember = (place: Place) => [...touched].some((other) => other.parent === place);
  return [...touched]
    .filter((place) => place.kind !== "import")
    .filter((place) => place.kind !== "class" || !hasTouchedMember(place))
    .map((place) => place.line)
    .sort((x, y) => x - y);
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

function wholeFixDemands(scenario: Scenario): string {
  const name = scenario.name as ScenarioName;
  return partsFor(name)
    .map((part) => partDemand(part, name))
    .join("; ");
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
        "generated from the history before it. The checker must say VALID with 4 workers." +
        (scenario.brokenWithOneWorker
          ? " This one is broken even with a single worker: it is not only about routing."
          : ""),
    ),
    wrap(`A whole fix also does the rest, and the check proves it: ${wholeFixDemands(scenario)}.`),
    wrap(`Hint: ${scenario.hint}`),
    wrap(
      'Each place the reference solution changes is marked "TODO(exercise)" where it is declared ' +
        "(a field, a method): a whole fix changes every one of them, and may add lines and methods " +
        "too. Change only this file; what it imports lives in service/ and scenarios/.",
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
