import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { getScenario, type Scenario, type ScenarioName } from "../../../scenarios/catalogue.ts";
import { RedisNotInstalledError } from "../../processes/redis-server.ts";
import { type DemoResult, runDemo } from "../demo/run-demo.ts";
import { type CompileResult, compileExercise } from "./compile.ts";
import { type MissingPart, PART_LABEL, partDemand, partsFor } from "./parts.ts";
import { exerciseFile, ROOT } from "./prepare.ts";
import type { CheckStatus } from "./status.ts";
import { checkWholeFix } from "./whole-fix.ts";

export interface CheckOptions {
  scenario: ScenarioName;
  workers?: number;
  conversations?: number;
  turns?: number;
  connections?: number;
  /** Progress bar of turns answered (on a terminal). */
  progress?: boolean;
  /** Folder for the cluster's JSON logs (default `.runs/`). */
  logDir?: string;
  /** Progress notes for the person watching ("type-checking ...", "started redis-server ..."). */
  note?: (message: string) => void;
}

/** One line of what the check found; the kind decides how it is shown. */
export interface OutcomeMessage {
  kind: "success" | "failure" | "reason" | "missing" | "tip" | "note" | "output";
  text: string;
}

export interface CheckOutcome {
  scenario: ScenarioName;
  /** The learner's file that was checked. */
  file: string;
  status: CheckStatus;
  solved: boolean;
  /** What the check found, in plain words, in the order to show them. */
  messages: OutcomeMessage[];
  /** The parts of a whole fix the copy lacks (parts.ts), when the app ran; one hint each. */
  missing: MissingPart[];
  /** The load test and the checker's result, when the app ran. */
  result?: DemoResult;
  /** The cluster's JSON log of this run, when there is one. */
  logFile?: string;
}

/** A path as the learner would type it: relative to the current directory when that is shorter. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

function lines(kind: OutcomeMessage["kind"], text: string, max = 40): OutcomeMessage[] {
  const all = text.split("\n");
  const shown =
    all.length > max ? [...all.slice(0, max), `... (${all.length - max} more lines)`] : all;
  return shown.map((line) => ({ kind, text: line }));
}

/** The log of the run that started at `since` (runDemo names it `exercise-<scenario>-<ms>.log`). */
async function findLog(
  logDir: string,
  scenario: string,
  since: number,
): Promise<string | undefined> {
  if (!existsSync(logDir)) return undefined;
  const pattern = new RegExp(`^exercise-${scenario}-(\\d+)\\.log$`);
  const candidates = (await readdir(logDir))
    .map((name) => ({ name, at: Number(pattern.exec(name)?.[1] ?? Number.NaN) }))
    .filter((entry) => entry.at >= since)
    .sort((a, b) => b.at - a.at);
  return candidates[0] ? join(logDir, candidates[0].name) : undefined;
}

/**
 * What the workers printed when they failed: the first run of non-JSON lines (stderr: an
 * uncaught error and its stack) in the cluster's log, or else the log's last lines.
 */
async function failureExcerpt(file: string, count = 15): Promise<string> {
  const all = (await readFile(file, "utf8")).trimEnd().split("\n");
  const isJson = (line: string) => line.startsWith("{");
  const start = all.findIndex((line) => line.trim() !== "" && !isJson(line));
  if (start < 0) return all.slice(-count).join("\n");
  const end = all.findIndex((line, i) => i > start && isJson(line));
  return all
    .slice(start, end < 0 ? undefined : end)
    .filter((line) => line.trim() !== "")
    .slice(0, count)
    .join("\n");
}

/** What one step of the check concluded; `checkExercise` adds which scenario and file. */
type Finding = Pick<CheckOutcome, "status" | "messages"> &
  Partial<Pick<CheckOutcome, "result" | "logFile" | "missing">>;

function toOutcome(
  scenario: ScenarioName,
  file: string,
  { status, messages, missing = [], ...extra }: Finding,
): CheckOutcome {
  return { scenario, file, status, solved: status === "solved", messages, missing, ...extra };
}

function missingFile(name: ScenarioName, file: string): Finding {
  return {
    status: "error",
    messages: [
      { kind: "failure", text: `There is no exercise file at ${displayPath(file)}.` },
      { kind: "tip", text: `Create it with: npm run exercise -- --reset ${name}` },
    ],
  };
}

function doesNotCompile(file: string, compiled: CompileResult): Finding {
  const what =
    compiled.stage === "typecheck"
      ? "Your file does not compile (TypeScript errors), so the app was not started:"
      : "Your file compiles but Node cannot load it, so the app was not started:";
  return {
    status: "does-not-compile",
    messages: [
      { kind: "failure", text: what },
      ...lines("output", compiled.output),
      { kind: "tip", text: `Fix ${displayPath(file)} and run the check again.` },
    ],
  };
}

/** The learner's app under load, then the checker (runDemo starts Redis when it is needed). */
function runUnderLoad(options: CheckOptions, workers: number, logDir: string): Promise<DemoResult> {
  return runDemo({
    app: "exercise",
    scenario: options.scenario,
    workers,
    conversations: options.conversations ?? 12,
    turns: options.turns ?? 6,
    connections: options.connections ?? 8,
    // Not sticky: turns must hop across workers for the state bugs to show.
    sticky: false,
    "retry-rate": 0,
    timeout: 10,
    "max-seconds": 120,
    help: false,
    agentLatencyMs: 5,
    logDir,
    progress: options.progress ?? false,
    note: options.note ?? (() => {}),
  });
}

/** Why the run failed: no Redis, the app did not start (with its log's error), or anything else. */
async function runFailed(
  error: unknown,
  name: ScenarioName,
  logDir: string,
  startedAt: number,
): Promise<Finding> {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RedisNotInstalledError) {
    return {
      status: "error",
      messages: [
        { kind: "failure", text: "The check needs Redis, and there is none:" },
        ...lines("output", message),
      ],
    };
  }
  const logFile = await findLog(logDir, name, startedAt);
  const didNotStart = /exited before it was ready|not ready within/.test(message);
  const messages: OutcomeMessage[] = [
    {
      kind: "failure",
      text: didNotStart
        ? `The app did not start with your file: ${message}.`
        : `The check could not run: ${message}`,
    },
  ];
  if (logFile) {
    messages.push({ kind: "note", text: `From the app's log (${displayPath(logFile)}):` });
    messages.push(...lines("output", await failureExcerpt(logFile)));
  }
  return { status: didNotStart ? "did-not-start" : "error", messages, logFile };
}

function logLine(result: DemoResult): OutcomeMessage {
  return {
    kind: "note",
    text: `Logs of this run (one JSON line per turn): ${displayPath(result.logFile)}`,
  };
}

function solved(scenario: Scenario, workers: number, result: DemoResult): Finding {
  const { totals } = result.check;
  const name = scenario.name as ScenarioName;
  const parts = partsFor(name).map((part) => partDemand(part, name));
  const messages: OutcomeMessage[] = [
    {
      kind: "success",
      text:
        `Solved: "${scenario.title}". ${totals.acknowledged} turns in ${totals.conversations} ` +
        `conversations on ${workers} workers: every turn was stored, and every reply was built ` +
        `from the history before it. And the fix is whole: ${parts.join("; ")}.`,
    },
    { kind: "note", text: `The reference fix: ${scenario.fix}` },
    {
      kind: "note",
      text: `Compare with: diff -u broken/${scenario.name}/chat-service.ts fixed/${scenario.name}/chat-service.ts`,
    },
    logLine(result),
  ];
  return { status: "solved", messages, result, logFile: result.logFile };
}

/** One line per missing part, named: "close(): close() left 1 Redis connection open: ...". */
function missingLines(missing: readonly MissingPart[]): OutcomeMessage[] {
  return missing.map(({ part, hint }) => ({
    kind: "missing",
    text: `${PART_LABEL[part]}: ${hint}`,
  }));
}

function partsMissing(count: number): string {
  return count === 1 ? "1 part is missing" : `${count} parts are missing`;
}

/** After the checker's findings: the parts of a whole fix that are missing too, if any. */
function alsoMissing(missing: readonly MissingPart[]): OutcomeMessage[] {
  if (missing.length === 0) return [];
  const headline = `And a whole fix does more: ${partsMissing(new Set(missing.map((m) => m.part)).size)}.`;
  return [{ kind: "failure", text: headline }, ...missingLines(missing)];
}

/** The histories are right, but not everything a whole fix does is there. */
function partialFix(workers: number, result: DemoResult, missing: MissingPart[]): Finding {
  const messages: OutcomeMessage[] = [
    {
      kind: "failure",
      text:
        `Not solved yet: the histories are right with ${workers} workers (the checker says VALID), ` +
        `but the fix is not whole: ${partsMissing(new Set(missing.map((m) => m.part)).size)}.`,
    },
    ...missingLines(missing),
    {
      kind: "tip",
      text: 'What a whole fix changes is marked "TODO(exercise)" in your copy: each hint above names one of those places.',
    },
    logLine(result),
  ];
  return { status: "unsolved", messages, result, logFile: result.logFile, missing };
}

/** Not solved: the checker's reasons, where to look in the logs, the hint, and any part missing. */
function unsolved(
  scenario: Scenario,
  workers: number,
  result: DemoResult,
  missing: MissingPart[],
): Finding {
  const { check } = result;
  const headline =
    check.verdict === "invalid"
      ? `Not solved yet: with ${workers} workers, the checker found conversation histories that are wrong.`
      : "Not solved: the run proved nothing either way (the checker's verdict is UNKNOWN).";
  const messages: OutcomeMessage[] = [
    { kind: "failure", text: headline },
    ...check.reasons.map((reason) => ({ kind: "reason" as const, text: reason })),
    { kind: "tip", text: `In the logs: ${scenario.inTheLogs}` },
    logLine(result),
    { kind: "tip", text: `Hint: ${scenario.hint}` },
  ];
  if (scenario.brokenWithOneWorker) {
    messages.push({
      kind: "note",
      text: "This bug shows even with a single worker: look at what one turn does, not only at how turns are spread over workers.",
    });
  }
  messages.push(...alsoMissing(missing));
  return { status: "unsolved", messages, result, logFile: result.logFile, missing };
}

/** The app ran: solved only when the checker says valid and no part of a whole fix is missing. */
function judge(
  scenario: Scenario,
  workers: number,
  result: DemoResult,
  missing: MissingPart[],
): Finding {
  if (result.check.verdict !== "valid") return unsolved(scenario, workers, result, missing);
  return missing.length > 0
    ? partialFix(workers, result, missing)
    : solved(scenario, workers, result);
}

/** The probes of a whole fix could not run (not the same as finding a part missing). */
function probesFailed(result: DemoResult, output: string): Finding {
  return {
    status: "error",
    messages: [
      { kind: "failure", text: "The checks of a whole fix could not run:" },
      ...lines("output", output),
      logLine(result),
    ],
    result,
    logFile: result.logFile,
  };
}

/**
 * Checks the learner's copy of one scenario (`<exercisesDir>/<scenario>/chat-service.ts`):
 * type check, load, the app under load with the checker, then the rest of a whole fix
 * (whole-fix.ts), as `npm run exercise -- <name>`.
 * Never throws for a failing exercise: the outcome says what happened.
 */
export async function checkExercise(options: CheckOptions): Promise<CheckOutcome> {
  const scenario = getScenario(options.scenario);
  const name = options.scenario;
  const file = exerciseFile(name);
  const workers = options.workers ?? 4;
  const logDir = options.logDir ?? join(ROOT, ".runs");
  const note = options.note ?? (() => {});
  if (!existsSync(file)) return toOutcome(name, file, missingFile(name, file));

  note(`type-checking and loading ${displayPath(file)}`);
  const compiled = await compileExercise(file);
  if (!compiled.ok) return toOutcome(name, file, doesNotCompile(file, compiled));

  // Logs older than this belong to earlier runs (findLog matches by time).
  const startedAt = Date.now();
  let result: DemoResult;
  try {
    result = await runUnderLoad(options, workers, logDir);
  } catch (error) {
    return toOutcome(name, file, await runFailed(error, name, logDir, startedAt));
  }
  const parts = partsFor(name).map((part) => PART_LABEL[part]);
  note(`checking the rest of a whole fix: ${parts.join(", ")}`);
  const wholeFix = await checkWholeFix(name);
  if (!wholeFix.ok) return toOutcome(name, file, probesFailed(result, wholeFix.output));
  return toOutcome(name, file, judge(scenario, workers, result, wholeFix.missing));
}
