import { z } from "zod";
import { commaList, count, parseFlagsOrExit } from "../load/cli-options.ts";
import { PERSISTENCE_CHOICES } from "../processes/redis-server.ts";
import { FAULT_NAMES } from "./faults.ts";
import { DEFAULT_CHAOS_OPTIONS } from "./run-case.ts";

export const chaosFlagSpec = {
  faults: { type: "string" },
  apps: { type: "string" },
  workers: { type: "string" },
  conversations: { type: "string" },
  turns: { type: "string" },
  connections: { type: "string" },
  "latency-ms": { type: "string" },
  "strike-at": { type: "string" },
  "down-ms": { type: "string" },
  persistence: { type: "string" },
  hop: { type: "boolean" },
  timeout: { type: "string" },
  json: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const d = DEFAULT_CHAOS_OPTIONS;

export const ChaosFlags = z.object({
  faults: commaList(FAULT_NAMES).default([...FAULT_NAMES]),
  apps: commaList(["broken", "fixed"] as const).default(["broken", "fixed"]),
  workers: count(2, 16, d.workers),
  conversations: count(1, 1000, d.conversations),
  turns: count(2, 100, d.turns),
  connections: count(1, 100, d.connections),
  "latency-ms": count(0, 10_000, d.agentLatencyMs),
  "strike-at": z.coerce.number().gt(0).lt(1).default(d.strikeAt),
  "down-ms": count(0, 60_000, d.downMs),
  persistence: z.enum(PERSISTENCE_CHOICES).default(d.persistence),
  hop: z.boolean().default(false),
  timeout: count(1, 60, d.timeoutSeconds),
  json: z.string().optional(),
  help: z.boolean().default(false),
});
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
  --hop                turns hop across workers (default: sticky routing, which hides the
                       broken app's bug until a worker goes away)
  --timeout SECONDS    wait this long for one answer before its outcome is unknown (default ${d.timeoutSeconds})
  --json FILE          write every case (fault event, outcome, turns, reads, checker) as JSON`;

export function parseChaosFlags(values: Record<string, unknown>): ChaosFlags {
  return parseFlagsOrExit(ChaosFlags, values);
}
