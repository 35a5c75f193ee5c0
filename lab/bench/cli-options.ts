import type { z } from "zod";
import {
  commaList,
  countFlag,
  defineFlags,
  FLAG,
  parseFlagsOrExit,
  valueFlag,
} from "../cli-flags.ts";

/** The benchmark's sections, in the order they run. */
export const SECTIONS = [
  "throughput",
  "round-trips",
  "growth",
  "memory",
  "frameworks",
  "streaming",
] as const;

/** bench's flags: its own (rounds, sections) and the load test's, with its defaults. */
const BENCH_FLAGS = defineFlags(
  countFlag("rounds", { min: 1, max: 50, fallback: 3 }),
  FLAG.conversations({ max: 100_000, fallback: 160 }),
  FLAG.turns({ fallback: 10 }),
  FLAG.connections(),
  FLAG.workers(),
  FLAG.latencyMs(),
  valueFlag("only", commaList(SECTIONS).default([...SECTIONS])),
  FLAG.json(),
  FLAG.help(),
);

export const benchFlagSpec = BENCH_FLAGS.spec;
export const BenchFlags = BENCH_FLAGS.schema;
export type BenchFlags = z.infer<typeof BenchFlags>;

export const BENCH_HELP = `Usage: npm run bench -- [options]
  --rounds N          interleaved rounds of the throughput load (3)
  --conversations S   conversations per run (160)     --turns T   turns each (10)
  --connections C     keep-alive connections (8)      --workers N (4)
  --latency-ms N      simulated model latency per turn (5)
  --only LIST         sections: ${SECTIONS.join(",")} (all)
  --json FILE         write every measurement as JSON`;

export function parseBenchFlags(values: Record<string, unknown>): BenchFlags {
  return parseFlagsOrExit(BenchFlags, values);
}
