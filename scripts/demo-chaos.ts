/**
 * Faults against both apps while the load test runs: a worker SIGKILLed, a worker drained
 * (SIGTERM), a worker SIGKILLed mid-reply while every turn streams, Redis shut down for a
 * second, Redis SIGKILLed and restarted from its AOF, failovers.
 *   npm run demo:chaos
 *   npm run demo:chaos -- --faults redis-crash --persistence none    # what persistence is for
 *   npm run demo:chaos -- --json .runs/chaos.json
 * Exits 1 unless the fixed app kept every acknowledged turn under every fault.
 */
import { parseArgs } from "node:util";
import pc from "picocolors";
import { chaosJson } from "../lab/chaos/chaos-json.ts";
import { CHAOS_HELP, chaosFlagSpec, parseChaosFlags } from "../lab/chaos/cli-options.ts";
import { FAULTS } from "../lab/chaos/faults.ts";
import {
  chaosNotes,
  chaosVerdictLine,
  renderChaosTable,
  turnsSummary,
} from "../lab/chaos/render.ts";
import {
  type ChaosCase,
  clientTimeoutSeconds,
  DEFAULT_CHAOS_OPTIONS,
  runChaosCase,
} from "../lab/chaos/run-case.ts";
import { RedisNotInstalledError } from "../lab/processes/redis-server.ts";
import { verdictTag } from "../lab/report/palette.ts";
import { writeJson } from "../lab/report/write-json.ts";

const { values } = parseArgs({ options: chaosFlagSpec });
if (values.help) {
  console.log(CHAOS_HELP);
  process.exit(0);
}
const flags = parseChaosFlags(values);
const options = {
  ...DEFAULT_CHAOS_OPTIONS,
  workers: flags.workers,
  conversations: flags.conversations,
  turns: flags.turns,
  connections: flags.connections,
  agentLatencyMs: flags["latency-ms"],
  strikeAt: flags["strike-at"],
  downMs: flags["down-ms"],
  persistence: flags.persistence,
  redisSentinel: flags["redis-sentinel"],
  sticky: !flags.hop,
  timeoutSeconds: flags.timeout,
};

console.log(
  pc.dim(
    `${options.workers} workers, ${options.conversations} conversations x ${options.turns} turns, ` +
      `${options.sticky ? "sticky routing" : "turns hop across workers"}, each fault strikes once ` +
      `${Math.round(options.strikeAt * 100)}% of the turns are acknowledged; the fixed app's Redis ` +
      `runs with persistence ${options.persistence}.`,
  ),
);
const cases: ChaosCase[] = [];
try {
  for (const fault of flags.faults) {
    for (const app of flags.apps) {
      process.stdout.write(pc.dim(`${fault}: ${app}... `));
      const result = await runChaosCase(fault, app, options);
      cases.push(result);
      const o = result.outcome;
      console.log(
        result.skipped
          ? pc.dim("n/a")
          : o
            ? `${verdictTag(o.verdict)} ${pc.dim(`(lost ${o.lost}; ${turnsSummary(o.turns)})`)}`
            : "",
      );
    }
  }
} catch (error) {
  console.log();
  if (error instanceof RedisNotInstalledError) console.error(pc.red(error.message));
  else
    console.error(pc.red(error instanceof Error ? (error.stack ?? error.message) : String(error)));
  process.exit(1);
}

console.log(`\n${renderChaosTable(cases)}`);
const streamFault = flags.faults.map((name) => FAULTS[name]).find((fault) => fault.cutsStreams);
const streamTimeoutSeconds = streamFault && clientTimeoutSeconds(streamFault, options);
console.log(chaosNotes({ ...options, streamTimeoutSeconds }));
const verdict = chaosVerdictLine(cases);
console.log(verdict.line);
if (flags.json) {
  await writeJson(flags.json, chaosJson(options, cases));
  console.log(pc.dim(`JSON result written to ${flags.json}`));
}
process.exit(verdict.ok ? 0 : 1);
