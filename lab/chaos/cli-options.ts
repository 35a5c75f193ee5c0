import { z } from "zod";
import {
  commaList,
  countFlag,
  defineFlags,
  FLAG,
  parseFlagsOrExit,
  switchFlag,
  valueFlag,
} from "../cli-flags.ts";
import { PERSISTENCE_CHOICES } from "../processes/redis-server.ts";
import { FAULT_NAMES, FAULTS } from "./faults.ts";
import { DEFAULT_CHAOS_OPTIONS } from "./run-case.ts";

const d = DEFAULT_CHAOS_OPTIONS;

/** demo:chaos's flags: its own (faults, Redis downtime, ...) and the load test's, with its bounds. */
const CHAOS_FLAGS = defineFlags(
  valueFlag("faults", commaList(FAULT_NAMES).default([...FAULT_NAMES])),
  valueFlag("apps", commaList(["broken", "fixed"] as const).default(["broken", "fixed"])),
  FLAG.workers({ min: 2, max: 16, fallback: d.workers }),
  FLAG.conversations({ max: 1000, fallback: d.conversations }),
  FLAG.turns({ min: 2, max: 100, fallback: d.turns }),
  FLAG.connections({ max: 100, fallback: d.connections }),
  FLAG.latencyMs({ fallback: d.agentLatencyMs }),
  valueFlag("strike-at", z.coerce.number().gt(0).lt(1).default(d.strikeAt)),
  countFlag("down-ms", { min: 0, max: 60_000, fallback: d.downMs }),
  valueFlag("persistence", z.enum(PERSISTENCE_CHOICES).default(d.persistence)),
  switchFlag("hop"),
  switchFlag("redis-sentinel"),
  FLAG.timeout({ max: 60, fallback: d.timeoutSeconds }),
  FLAG.json(),
  FLAG.help(),
);

export const chaosFlagSpec = CHAOS_FLAGS.spec;
export const ChaosFlags = CHAOS_FLAGS.schema;
export type ChaosFlags = z.infer<typeof ChaosFlags>;

export const CHAOS_HELP = `Usage: npm run demo:chaos -- [options]
Runs each fault against the broken and the fixed app while the load test runs, then checks
every history: an acknowledged turn must never disappear.
  --faults LIST        comma-separated, from: ${FAULT_NAMES.join(", ")} (default: all)
  --apps LIST          broken,fixed (default both)
  --workers N          worker processes (default ${d.workers})
  --conversations S    conversations (default ${d.conversations})
  --turns T            turns per conversation (default ${d.turns})
  --connections C      keep-alive connections (default ${d.connections})
  --latency-ms N       simulated model latency per turn (default ${d.agentLatencyMs})
  --strike-at F        strike once this share of turns is acknowledged (default ${d.strikeAt})
  --down-ms N          how long Redis stays down (default ${d.downMs})
  --persistence P      the fixed app's Redis: ${PERSISTENCE_CHOICES.join(" | ")} (default ${d.persistence})
  --redis-sentinel     the faults that leave Redis alone (no-fault, worker-crash, worker-drain,
                       stream-producer-crash) run the fixed app on a primary + 2 replicas under 3
                       Sentinels (the Redis faults keep their own: one redis-server, or Sentinel's
                       and a Cluster's for failovers)
  --hop                turns hop across workers (default: sticky routing, which hides the
                       broken app's bug until a worker goes away)
  --timeout SECONDS    wait this long for one answer before the turn counts as "no answer" (default ${d.timeoutSeconds};
                       stream-producer-crash waits ${FAULTS["stream-producer-crash"].minTimeoutSeconds} s at least: a resumed stream is silent until
                       the dead worker's lease lapses)
  --json FILE          write the outcome categories and every case (fault event, outcome, each turn
                       with its category, reads, checker) as JSON`;

export function parseChaosFlags(values: Record<string, unknown>): ChaosFlags {
  return parseFlagsOrExit(ChaosFlags, values);
}
