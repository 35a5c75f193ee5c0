/**
 * Rustlings-style exercises: make each scenario's broken chat service pass the checker.
 *   npm run exercise                      the exercises, with their status once started
 *   npm run exercise -- memory            creates exercises/memory/chat-service.ts if needed, checks it
 *   npm run exercise -- memory --watch    checks again on every save (Ctrl+C stops)
 *   npm run exercise -- --reset memory    restores the copy from broken/memory (--reset --all: every one)
 */
import { parseArgs } from "node:util";
import pc from "picocolors";
import { checkExercise, displayPath } from "../lab/learn/exercises/check.ts";
import { ensureExercise, resetExercise, variantFile } from "../lab/learn/exercises/prepare.ts";
import { renderList, renderOutcome } from "../lab/learn/exercises/report.ts";
import { saveStatus } from "../lab/learn/exercises/status.ts";
import { watchAndRun } from "../lab/learn/exercises/watch.ts";
import { EXERCISE_NAMES, type ScenarioName } from "../scenarios/catalogue.ts";

const HELP = `Usage: npm run exercise -- [name] [options]
  (no name), --list     the exercises: ${EXERCISE_NAMES.join(", ")}
  <name>                create exercises/<name>/chat-service.ts if needed, then check it
  <name> --watch        check again whenever the file changes (Ctrl+C stops)
  --reset <name>        restore exercises/<name>/chat-service.ts from broken/<name>/
  --reset --all         restore every exercise
A changed file that --reset replaces is kept next to it as chat-service.ts.bak.`;

function fail(message: string): never {
  console.error(pc.red(message));
  console.error(HELP);
  process.exit(2);
}

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        list: { type: "boolean" },
        watch: { type: "boolean" },
        reset: { type: "boolean" },
        all: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

const { values, positionals } = parse();
const names = positionals.map((name) => {
  if ((EXERCISE_NAMES as readonly string[]).includes(name)) return name as ScenarioName;
  return fail(`no exercise named ${JSON.stringify(name)}`);
});

if (values.help) {
  console.log(HELP);
} else if (values.reset) {
  if (!values.all && names.length === 0) fail("--reset needs an exercise name, or --all");
  for (const name of values.all ? EXERCISE_NAMES : names) {
    const { file, backup } = await resetExercise(name);
    console.log(
      `Reset ${displayPath(file)} from ${displayPath(variantFile("broken", name))}` +
        (backup ? pc.dim(` (your previous version is in ${displayPath(backup)})`) : ""),
    );
  }
} else if (values.list || names.length === 0) {
  console.log(await renderList());
} else {
  if (names.length > 1) fail("one exercise at a time");
  const name = names[0] as ScenarioName;
  const { file, created } = await ensureExercise(name);
  console.log(
    created
      ? `Created ${pc.bold(displayPath(file))} from ${displayPath(variantFile("broken", name))}: edit it until this check passes.`
      : `Checking ${pc.bold(displayPath(file))}`,
  );

  let stopping = false;
  const checkOnce = async () => {
    const outcome = await checkExercise({
      scenario: name,
      progress: Boolean(process.stderr.isTTY),
      note: (message) => console.log(pc.dim(message)),
    });
    if (stopping) return outcome;
    await saveStatus(name, outcome.status);
    console.log(`\n${renderOutcome(outcome)}\n`);
    return outcome;
  };

  if (!values.watch) {
    process.exitCode = (await checkOnce()).solved ? 0 : 1;
  } else {
    let runs = 0;
    const watcher = watchAndRun(
      file,
      async () => {
        if (runs++ > 0) console.log(pc.bold(`\n${displayPath(file)} changed: checking again`));
        await checkOnce();
        if (!stopping) console.log(pc.dim(`Watching ${displayPath(file)}; Ctrl+C stops.`));
      },
      { onError: (error) => console.error(pc.red(String(error))) },
    );
    const stop = () => {
      if (stopping) process.exit(130);
      stopping = true;
      console.log(
        pc.dim("\nStopping (a check in progress finishes first; Ctrl+C again to quit now)"),
      );
      void watcher.stop().then(() => process.exit(0));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  }
}
