import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { COUNT_OF } from "../../../../lab/check/anomaly-counts.ts";
import { checkExercise } from "../../../../lab/learn/exercises/check.ts";
import { typecheck } from "../../../../lab/learn/exercises/compile.ts";
import {
  ensureExercise,
  exerciseFile,
  resetExercise,
  TODO_MARKER,
  todoLines,
  variantFile,
  writeExerciseCopy,
} from "../../../../lab/learn/exercises/prepare.ts";
import { readStatus, saveStatus } from "../../../../lab/learn/exercises/status.ts";
import { EXERCISES, type ScenarioName } from "../../../../scenarios/catalogue.ts";
import { exercisesDir } from "../../../../scenarios/variant.ts";
import { designedCounts, pickCounts } from "../../../helpers/designed-anomalies.ts";
import { useExercisesDir } from "../../../helpers/exercises-dir.ts";
import { hops } from "../../../helpers/turn-routing.ts";
import { afterDueTimers, type RecordedRuns, recordRuns } from "../../../helpers/watch-runs.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
// Under .runs/ (git-ignored, ignored by Biome, outside tsconfig's include), two levels deep
// like exercises/<name>/: the copies are written here, and the workers load them from here.
const TEST_DIR = join(ROOT, ".runs", `exercises-test-${process.pid}`);
// Somewhere deeper, to prove the import rewriting does not depend on the depth.
const DEEP_DIR = join(TEST_DIR, "deep", "er");

// Small load: enough turns hop across 4 workers to show each bug, and it stays quick.
const LOAD = { workers: 4, conversations: 8, turns: 4, connections: 8 } as const;

useExercisesDir(TEST_DIR);

describe("the learner's copy", () => {
  it.each(EXERCISES.map((s) => s.name))(
    "%s: header, a TODO marker per place the fix changes, imports rewritten, type-checks and loads",
    async (name) => {
      const scenario = EXERCISES.find((s) => s.name === name) as (typeof EXERCISES)[number];
      const file = await writeExerciseCopy(name, "broken", DEEP_DIR);
      expect(file).toBe(join(DEEP_DIR, name, "chat-service.ts"));
      const text = await readFile(file, "utf8");
      const broken = await readFile(variantFile("broken", name), "utf8");
      const fixed = await readFile(variantFile("fixed", name), "utf8");

      // The header: title, problem, a TODO, the hint, how to check.
      const end = text.indexOf(" */\n") + 4;
      const header = text.slice(0, end).replace(/\n \* ?/g, " ");
      expect(text.startsWith("/*\n")).toBe(true);
      expect(header).toContain(scenario.title);
      expect(header).toContain(scenario.problem);
      expect(header).toContain("TODO:");
      expect(header).toContain(scenario.hint);
      expect(header).toContain("A whole fix also does the rest");
      expect(header).toContain(`npm run exercise -- ${name}`);

      // The body is the broken file, line for line, with imports rewritten and markers appended.
      const body = text.slice(end).split("\n");
      const source = broken.split("\n");
      expect(body).toHaveLength(source.length);
      const marked: number[] = [];
      body.forEach((line, i) => {
        const plain = line.endsWith(` ${TODO_MARKER}`)
          ? line.slice(0, -TODO_MARKER.length - 1)
          : line;
        if (plain !== line) marked.push(i);
        expect(plain).toBe((source[i] as string).replaceAll('"../../', '"../../../../../'));
        // A marked line declares something (a member, a top-level declaration), never an import.
        if (plain !== line) expect(plain).toMatch(/^( {2})?(?!import\b)[A-Za-z]/);
      });
      expect(marked.length).toBeGreaterThan(0);
      expect(marked).toEqual(todoLines(broken, fixed));
      expect(text).not.toMatch(/"\.\.\/\.\.\/(?!\.\.)/);
      expect(text).toContain('"../../../../../service/');

      // It compiles under the project's strict options, and it loads.
      const typed = await typecheck(file);
      expect(typed.output).toBe("");
      expect(typed.ok).toBe(true);
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      expect(typeof module.AgentChatService).toBe("function");
    },
  );

  /** The lines of the learner's copy that carry a marker, without it. */
  async function markedDeclarations(name: ScenarioName): Promise<string[]> {
    const file = await writeExerciseCopy(name, "broken", DEEP_DIR);
    return (await readFile(file, "utf8"))
      .split("\n")
      .filter((line) => line.endsWith(` ${TODO_MARKER}`))
      .map((line) => line.slice(0, -TODO_MARKER.length - 1).trim());
  }

  it("marks each place the memory fix changes once, on its declaration", async () => {
    expect(await markedDeclarations("memory")).toEqual([
      'readonly backend = "memory";',
      "private readonly histories = new Map<string, ChatMessage[]>();",
      "constructor(deps: ServiceDeps) {",
      "async handleTurn(turn: Turn): Promise<TurnResult> {",
      "async history(ref: ConversationRef): Promise<ChatMessage[]> {",
      "async storeReachable(): Promise<boolean> {",
      "async close(): Promise<void> {}",
    ]);
  });

  it.each([
    [
      "copied-state",
      "override async handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {",
    ],
    // The whole override goes, with its imports: the method is the place, not the class.
    [
      "unawaited-write",
      "override async handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {",
    ],
    ["file-store", "constructor(deps: VariantDeps) {"],
    ["unstable-key", "private keyOf(ref: ConversationRef): string {"],
  ] as const)("marks the one place the %s fix changes", async (name, declaration) => {
    expect(await markedDeclarations(name)).toEqual([declaration]);
  });

  it("the reference solution goes through the same copy, imports rewritten, no header", async () => {
    const file = await writeExerciseCopy("memory", "fixed", DEEP_DIR);
    const fixed = await readFile(variantFile("fixed", "memory"), "utf8");
    expect(await readFile(file, "utf8")).toBe(fixed.replaceAll('"../../', '"../../../../../'));
    expect((await typecheck(file)).ok).toBe(true);
  });

  it("is created once; --reset restores it and keeps the learner's version", async () => {
    const dir = join(TEST_DIR, "reset");
    const first = await ensureExercise("memory", dir);
    expect(first.created).toBe(true);
    const fresh = await readFile(first.file, "utf8");
    await writeFile(first.file, `${fresh}\n// my attempt\n`);
    expect((await ensureExercise("memory", dir)).created).toBe(false);
    expect(await readFile(first.file, "utf8")).toContain("my attempt");

    const reset = await resetExercise("memory", dir);
    expect(await readFile(reset.file, "utf8")).toBe(fresh);
    expect(reset.backup).toBe(`${first.file}.bak`);
    expect(await readFile(reset.backup as string, "utf8")).toContain("my attempt");
    // Nothing to keep when the copy was untouched.
    await rm(reset.backup as string);
    expect((await resetExercise("memory", dir)).backup).toBeUndefined();
  });

  it("caches a status per version of the file", async () => {
    const dir = join(TEST_DIR, "status");
    expect(await readStatus("memory", dir)).toBe("not-started");
    const { file } = await ensureExercise("memory", dir);
    expect(await readStatus("memory", dir)).toBe("unchecked");
    await saveStatus("memory", "unsolved", dir);
    expect(await readStatus("memory", dir)).toBe("unsolved");
    await writeFile(file, `${await readFile(file, "utf8")}\n`);
    expect(await readStatus("memory", dir)).toBe("edited");
    await resetExercise("memory", dir);
    expect(await readStatus("memory", dir)).toBe("unchecked");
  });
});

describe("the check says why it could not run", () => {
  it("a file that does not compile: the errors, and no app started", async () => {
    const file = await writeExerciseCopy("memory");
    expect(file).toBe(exerciseFile("memory", exercisesDir()));
    await writeFile(file, `${await readFile(file, "utf8")}\nconst oops: number = "one";\n`);
    const outcome = await checkExercise({ scenario: "memory", logDir: join(TEST_DIR, "logs") });
    expect(outcome.solved).toBe(false);
    expect(outcome.status).toBe("does-not-compile");
    expect(outcome.result).toBeUndefined();
    const text = outcome.messages.map((m) => m.text).join("\n");
    expect(text).toContain("does not compile");
    expect(text).toContain("TS2322");
  });

  it("a file that compiles but throws when loaded", async () => {
    const file = await writeExerciseCopy("memory");
    await writeFile(file, `${await readFile(file, "utf8")}\nthrow new Error("kaboom");\n`);
    const outcome = await checkExercise({ scenario: "memory", logDir: join(TEST_DIR, "logs") });
    expect(outcome.status).toBe("does-not-compile");
    expect(outcome.messages.map((m) => m.text).join("\n")).toContain("kaboom");
  });
});

describe("watchAndRun", () => {
  // Three saves in a row take a few ms: well inside one quiet period, even on a busy machine.
  const DEBOUNCE_MS = 500;

  async function watchedFile(name: string): Promise<string> {
    const file = join(TEST_DIR, name, "chat-service.ts");
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, "// 0\n");
    return file;
  }

  async function saveThreeTimes(file: string) {
    for (const n of [1, 2, 3]) await writeFile(file, `// ${n}\n`);
  }

  it("runs at once, then once per burst of saves, after the last one; other files do not count", async () => {
    const file = await watchedFile("watch-debounce");
    const status = join(dirname(file), ".status.json");
    await writeFile(status, "{}");
    const runs = recordRuns(file, { debounceMs: DEBOUNCE_MS });
    // A watcher of the other file, in the same folder with the same quiet period.
    let witness: RecordedRuns | undefined;
    try {
      expect(runs.contents).toEqual(["// 0\n"]);
      await runs.ended(1);

      await saveThreeTimes(file);
      await runs.started(2);
      // Debounced: one run for the three saves, and it saw the last one.
      expect(runs.contents).toEqual(["// 0\n", "// 3\n"]);
      await runs.ended(2);

      // Another file in the folder (the status cache, say) does not count. The witness runs
      // once its quiet period after that save is over; the watcher's own timer, had the save
      // counted, was set by the same event with the same delay, so it is due by then too.
      witness = recordRuns(status, { debounceMs: DEBOUNCE_MS });
      await witness.ended(1);
      await writeFile(status, '{"memory":"unsolved"}');
      await witness.started(2);
      await afterDueTimers();
      expect(runs.contents).toHaveLength(2);

      // The next run is the next save's: the burst made exactly one.
      await writeFile(file, "// 4\n");
      await runs.started(3);
      expect(runs.contents).toEqual(["// 0\n", "// 3\n", "// 4\n"]);
      expect(runs.maxActive).toBe(1);
    } finally {
      await runs.stop();
      await witness?.stop();
    }
  });

  it("never runs twice at once: saves during a run make one more run, after it ends", async () => {
    const file = await watchedFile("watch-overlap");
    let release = () => {};
    const firstRunHeld = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runs = recordRuns(file, { debounceMs: DEBOUNCE_MS }, (run) =>
      run === 1 ? firstRunHeld : undefined,
    );
    // A second watcher of the same file, never held: its run for the saves below shows that
    // the quiet period after them is over (the held watcher's timer is due by then too).
    const witness = recordRuns(file, { debounceMs: DEBOUNCE_MS });
    try {
      expect(runs.log).toEqual(["start 1"]);
      await witness.ended(1);

      await saveThreeTimes(file);
      await witness.started(2);
      await afterDueTimers();
      // The saves came while the first run was going: no second run beside it.
      expect(runs.log).toEqual(["start 1"]);

      release();
      await runs.started(2);
      expect(runs.log.slice(0, 3)).toEqual(["start 1", "end 1", "start 2"]);
      expect(runs.contents).toEqual(["// 0\n", "// 3\n"]);
      await runs.ended(2);

      // Exactly one more run: the next one is the next save's.
      await writeFile(file, "// 4\n");
      await runs.started(3);
      expect(runs.contents).toEqual(["// 0\n", "// 3\n", "// 4\n"]);
      expect(runs.maxActive).toBe(1);
    } finally {
      release();
      await runs.stop();
      await witness.stop();
    }
  });

  it("stop() resolves once the run in progress has finished", async () => {
    const file = await watchedFile("watch-stop");
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const runs = recordRuns(file, { debounceMs: DEBOUNCE_MS }, () => held);
    let stopped = false;
    const stopping = runs.stop().then(() => {
      stopped = true;
    });
    try {
      await afterDueTimers();
      expect(stopped).toBe(false);
      expect(runs.log).toEqual(["start 1"]);
      release();
      await stopping;
      expect(runs.log).toEqual(["start 1", "end 1"]);
    } finally {
      release();
      await stopping;
    }
  });
});

// CI proves both directions, as rustlings does: the unsolved exercise fails the check,
// the reference solution passes it. Real clusters, real Redis (private unless REDIS_URL).
describe.each(EXERCISES.map((s) => s.name as ScenarioName))("exercise %s", (name) => {
  const scenario = EXERCISES.find((s) => s.name === name) as (typeof EXERCISES)[number];
  const logDir = join(TEST_DIR, "logs");

  it("unsolved (fresh from broken/): the checker says invalid, with the scenario's anomalies", async () => {
    await writeExerciseCopy(name, "broken");
    const outcome = await checkExercise({ scenario: name, ...LOAD, logDir });
    const check = outcome.result?.check;
    expect(outcome.status, JSON.stringify(outcome.messages)).toBe("unsolved");
    expect(outcome.solved).toBe(false);
    expect(check?.verdict).toBe("invalid");
    // The counts the scenario's design fixes, as in test/scenarios (every turn hops workers).
    const designed = designedCounts(name, LOAD);
    if (!check || !designed) throw new Error(`no check result, or no designed counts for ${name}`);
    // Every turn, but a streamed reply that could not be resumed never got its done.
    expect(check.totals.acknowledged).toBe(
      designed.acknowledged ?? LOAD.conversations * LOAD.turns,
    );
    for (const kind of scenario.brokenAnomalies) {
      expect(check.totals[COUNT_OF[kind]], kind).toBeGreaterThan(0);
    }
    expect(hops(outcome.result?.load.turns ?? [])).toBe(LOAD.conversations * (LOAD.turns - 1));
    expect(pickCounts(check.totals, designed)).toEqual(designed);
    const text = outcome.messages.map((m) => m.text).join("\n");
    for (const reason of check?.reasons ?? []) expect(text).toContain(reason);
    expect(text).toContain(scenario.inTheLogs);
    expect(text).toContain(scenario.hint);
    expect(outcome.logFile && existsSync(outcome.logFile)).toBe(true);
  });

  it("the reference solution (fixed/) passes: verdict valid", async () => {
    await writeExerciseCopy(name, "fixed");
    const outcome = await checkExercise({ scenario: name, ...LOAD, logDir });
    expect(outcome.result?.check.verdict, JSON.stringify(outcome.messages)).toBe("valid");
    expect(outcome.solved).toBe(true);
    expect(outcome.status).toBe("solved");
    expect(outcome.result?.check.totals.acknowledged).toBe(LOAD.conversations * LOAD.turns);
  });
});
