/**
 * The main demo: the broken and the fixed app under the same load, side by side
 * (concurrently), then one comparison table.
 *   npm run demo
 *   npm run demo -- --workers 2 --conversations 40
 *   npm run demo -- --html report.html     # the side-by-side HTML report (default: .runs/)
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import concurrently, { type Command, Logger } from "concurrently";
import pc from "picocolors";
import { defaultHtmlFile, writeHtmlReport } from "../lab/report/html.ts";
import { renderComparison } from "../lab/report/print.ts";
import type { RunReport } from "../lab/report/write-json.ts";
import { keepsOf } from "../scenarios/catalogue.ts";

/** Removes `--name VALUE` / `--name=VALUE` from args; returns the value (the demo sets these per app). */
function takeOption(args: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = args.length - 1; i >= 0; i--) {
    const arg = args[i] ?? "";
    if (arg === `--${name}`) {
      value ??= args[i + 1];
      args.splice(i, 2);
    } else if (arg.startsWith(`--${name}=`)) {
      value ??= arg.slice(name.length + 3);
      args.splice(i, 1);
    }
  }
  return value;
}

const passthrough = process.argv.slice(2);
takeOption(passthrough, "json");
const htmlOption = takeOption(passthrough, "html");
if (passthrough.includes("--help") || passthrough.includes("-h")) {
  console.log("Usage: npm run demo -- [options of demo:broken / demo:fixed, e.g. --workers 2]");
  process.exit(0);
}
const runDir = join(".runs", `demo-${Date.now()}`);
// concurrently runs each command through a shell; quote only what needs it.
const quote = (arg: string) =>
  /^[\w./:=@%+-]+$/.test(arg) ? arg : `"${arg.replaceAll(/(["\\$`])/g, "\\$1")}"`;
const command = (app: string) =>
  [
    process.execPath,
    "--import",
    "tsx",
    "scripts/demo-app.ts",
    "--app",
    app,
    "--json",
    join(runDir, `${app}.json`),
    "--html",
    join(runDir, `${app}.html`),
    ...passthrough,
  ]
    .map(quote)
    .join(" ");

/** concurrently's logger without its "exited with code 0" lines: only a failure is news. */
class QuietSuccessLogger extends Logger {
  override logCommandEvent(text: string, command: Command): void {
    if (!text.endsWith(" exited with code 0")) super.logCommandEvent(text, command);
  }
}

const { result } = concurrently(
  [
    { command: command("broken"), name: "broken", prefixColor: "red" },
    { command: command("fixed"), name: "fixed", prefixColor: "green" },
  ],
  // Print each app's report whole, one after the other, although both run at once.
  { group: true, logger: new QuietSuccessLogger({ prefixFormat: "name" }) },
);
try {
  await result;
} catch {
  console.error(pc.red("A demo run failed; see its output above."));
  process.exit(1);
}

const reports = await Promise.all(
  ["broken", "fixed"].map(
    async (app) => JSON.parse(await readFile(join(runDir, `${app}.json`), "utf8")) as RunReport,
  ),
);
const [broken, fixed] = reports.map((r) => r.summary);
console.log(`\n${pc.bold("Broken vs fixed, same load, same machine, same time:")}`);
console.log(renderComparison(reports.map((r) => r.summary)));
if (broken && fixed) {
  console.log(
    `The broken app (${keepsOf(broken.app, broken.scenario)}) acknowledged ${broken.acknowledged} turns: ` +
      `${broken.lostEverywhere} are missing from every read, ${broken.lost} from some read, and ${broken.stale} replies missed earlier turns. ` +
      `The fixed app (${keepsOf(fixed.app, fixed.scenario)}): ${fixed.lostEverywhere}, ${fixed.lost} and ${fixed.stale}.`,
  );
  if (broken.stream && fixed.stream) {
    console.log(
      `Streamed replies that never reached their client whole after a resume on another worker: ${broken.stream.gap} of the broken app's ${broken.stream.turns}, ${fixed.stream.gap} of the fixed app's ${fixed.stream.turns}.`,
    );
  }
}
console.log(pc.dim(`Full results (JSON) and cluster logs: ${runDir}/ and .runs/*.log`));
const htmlFile = htmlOption ?? defaultHtmlFile("broken-vs-fixed", broken?.scenario ?? "memory");
await writeHtmlReport(htmlFile, reports);
console.log(`HTML report, both apps side by side (opens offline): ${pc.bold(htmlFile)}`);
if (fixed?.verdict !== "valid") {
  console.error(
    pc.red(
      `The fixed app's verdict is ${fixed?.verdict}: that is a bug in the sandbox, please report it.`,
    ),
  );
  process.exit(1);
}
