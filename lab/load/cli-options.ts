import type { z } from "zod";
import type { Scenario } from "../../scenarios/catalogue.ts";
import { defineFlags, FLAG, parseFlagsOrExit, specsOf } from "../cli-flags.ts";
import type { LoadOptions } from "./load-options.ts";

/** Load-test flags shared by `demo:*` and `load`, in the order their errors are reported. */
const LOAD_FLAGS = defineFlags(
  FLAG.workers(),
  FLAG.conversations(),
  FLAG.turns(),
  FLAG.connections(),
  FLAG.sticky(),
  FLAG.replicas(),
  FLAG.overlap(),
  FLAG.retryRate(),
  FLAG.stream(),
  FLAG.disconnectRate(),
  FLAG.disconnectAfter(),
  FLAG.resendRefused(),
  FLAG.seed(),
  FLAG.timeout(),
  FLAG.maxSeconds(),
  FLAG.json(),
  FLAG.html(),
  FLAG.help(),
);

/** The load flags' node:util parseArgs options; validate what it returns with parseLoadFlags. */
export const loadFlagSpec = LOAD_FLAGS.spec;
export const LoadFlags = LOAD_FLAGS.schema;
export type LoadFlags = z.infer<typeof LoadFlags>;

/** `npm run load`'s own flags: the app's turn limit, checked when given. */
export const LoadCommandFlags = defineFlags(FLAG.turnLimit()).schema;

/** `npm run load`: the load flags, the URL(s) of the app under test, its turn limit. */
export const loadCommandFlagSpec = {
  ...loadFlagSpec,
  ...specsOf(FLAG.url(), FLAG.turnLimit()),
};

/** `demo:broken` / `demo:fixed`: the load flags, and which app, scenario and Redis to run. */
export const demoAppFlagSpec = {
  ...loadFlagSpec,
  ...specsOf(
    FLAG.app(),
    FLAG.scenario(),
    FLAG.latencyMs(),
    FLAG.expect(),
    FLAG.redisCluster(),
    FLAG.redisSentinel(),
  ),
};

/** `demo:scenarios`: the load flags, and the model latency. */
export const demoScenariosFlagSpec = { ...loadFlagSpec, ...specsOf(FLAG.latencyMs()) };

export const LOAD_FLAGS_HELP = `Load options:
  --workers N         worker processes (default 4)
  --conversations S   conversations (default 24)
  --turns T           sequential turns per conversation (default 8)
  --connections C     keep-alive connections (default 8)
  --sticky            pin each conversation to one connection (hides the bug)
  --replicas N        N independent app clusters (as N machines); turns hop across all (default 1)
  --overlap K         up to K turns of one conversation in flight at once (default 1; naive-save: 3)
  --retry-rate P      re-send this share of turns with the same turnId (0-1, default 0)
  --stream            ask for every turn as a stream of events (default: the scenario's; streaming: on)
  --disconnect-rate R drop this share of streamed turns mid-stream, then resume each with
                      Last-Event-ID on a fresh connection to another worker (0-1; implies --stream;
                      default: the scenario's, streaming: 0.5, else 0)
  --disconnect-after N  deltas received before a dropped stream's connection goes (default 2)
  --seed N            seed of the retry and disconnect choices, to repeat a run
  --resend-refused MS resend a turn refused with 503/409 (nothing stored), answered 503
                      store_write_uncertain, or whose stream ended turn_interrupted (its worker died),
                      with the same turnId after MS ms, up to 100 sends, as a client riding out an
                      outage (default 0: never)
  --timeout SECONDS   wait this long for one answer before its outcome is unknown (default 10)
  --max-seconds N     hard cap on the load phase (default 120)
  --json FILE         write the whole result (turns, reads, checker verdict) as JSON
  --html FILE         write a self-contained HTML report (summary, charts, transcript)`;

export function parseLoadFlags(values: Record<string, unknown>): LoadFlags {
  return parseFlagsOrExit(LoadFlags, values);
}

/**
 * `--latency-ms N` of demo:broken / demo:fixed: the flag, else AGENT_LATENCY_MS, else 5.
 * Throws unless it is a whole number >= 0.
 */
export function demoLatencyMs(flag: string | undefined): number {
  const latency = Number(flag ?? process.env.AGENT_LATENCY_MS ?? 5);
  if (!Number.isInteger(latency) || latency < 0)
    throw new Error("--latency-ms must be a whole number >= 0");
  return latency;
}

/** The stream flags, as the load test's options; a flag absent takes the scenario's default. */
export function streamLoad(
  flags: Partial<Pick<LoadFlags, "stream" | "disconnect-rate" | "disconnect-after">>,
  defaults: Scenario["load"] = {},
): Pick<LoadOptions, "stream" | "disconnect"> {
  const rate = flags["disconnect-rate"] ?? defaults.disconnectRate ?? 0;
  // Only a streamed turn can be dropped mid-answer: a disconnect rate implies --stream.
  const stream = flags.stream ?? (defaults.stream || rate > 0);
  if (!stream) return { stream: false };
  const afterDeltas = flags["disconnect-after"] ?? 2;
  return { stream: true, disconnect: rate > 0 ? { rate, afterDeltas } : undefined };
}

/** `--resend-refused MS` as the load test's option: undefined when off. */
export function resendRefused(flags: Partial<Pick<LoadFlags, "resend-refused">>) {
  const backoffMs = flags["resend-refused"] ?? 0;
  return backoffMs > 0 ? { backoffMs, maxAttempts: 100 } : undefined;
}
