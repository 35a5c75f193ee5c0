import { median, percentile, round } from "../stats.ts";
import { type BenchEnvironment, benchLoad, CONTENDERS, type Contender } from "./bench-apps.ts";

export interface ThroughputOptions {
  rounds: number;
  conversations: number;
  turns: number;
  connections: number;
  workers: number;
  onRun?: (label: string, round: number, turnsPerSecond: number) => void;
}

export interface RunMeasure {
  turnsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** One contender's runs, and their medians across rounds (not rounded). */
export interface RoundsRow extends RunMeasure {
  label: string;
  runs: RunMeasure[];
}

export interface ThroughputRow extends RoundsRow {
  /** Ratios to the first contender (broken, the in-memory cost floor). */
  throughputRatio: number;
  p99Ratio: number;
}

/**
 * The main contenders under the same load, interleaved over rounds; ratios to the first
 * (broken, the in-memory cost floor).
 */
export async function measureThroughput(
  env: BenchEnvironment,
  options: ThroughputOptions,
): Promise<ThroughputRow[]> {
  const rows = await measureRounds(env, CONTENDERS, options);
  const floor = rows[0];
  return rows.map((row) => ({ ...roundedRow(row), ...ratiosTo(row, floor) }));
}

/**
 * The same load against every contender, interleaved over rounds (the order rotates each
 * round), so drift on the machine hits all of them alike; medians across rounds.
 */
export async function measureRounds(
  env: BenchEnvironment,
  contenders: readonly Contender[],
  options: ThroughputOptions,
): Promise<RoundsRow[]> {
  const runs = await interleavedRuns(
    contenders,
    options.rounds,
    (contender) => measureRun(env, contender, options),
    (label, round, measure) => options.onRun?.(label, round, measure.turnsPerSecond),
  );
  return contenders.map((c) => {
    const measures = runs.get(c.label) ?? [];
    return {
      label: c.label,
      runs: measures,
      turnsPerSecond: median(measures.map((m) => m.turnsPerSecond)),
      p50Ms: median(measures.map((m) => m.p50Ms)),
      p99Ms: median(measures.map((m) => m.p99Ms)),
    };
  });
}

/**
 * `run` against every contender, round after round, the order rotating each round so drift
 * on the machine hits all of them alike; each contender's results by label, in round order.
 */
export async function interleavedRuns<T>(
  contenders: readonly Contender[],
  rounds: number,
  run: (contender: Contender) => Promise<T>,
  onRun?: (label: string, round: number, result: T) => void,
): Promise<Map<string, T[]>> {
  const runs = new Map<string, T[]>(contenders.map((c) => [c.label, []]));
  for (let round = 0; round < rounds; round++) {
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
    for (const contender of order) {
      if (!contender) continue;
      const result = await run(contender);
      runs.get(contender.label)?.push(result);
      onRun?.(contender.label, round + 1, result);
    }
  }
  return runs;
}

/** One load against one contender: turns per second of the answered turns, their p50 and p99. */
async function measureRun(
  env: BenchEnvironment,
  contender: Contender,
  options: ThroughputOptions,
): Promise<RunMeasure> {
  const app = env.apps.get(contender.label);
  if (!app) throw new Error(`${contender.label} is not running`);
  const load = await benchLoad(app.url, env.token, {
    conversations: options.conversations,
    turns: options.turns,
    connections: options.connections,
    workers: options.workers,
  });
  const ok = load.turns.filter((t) => t.outcome === "ok");
  const latencies = ok.map((t) => t.latencyMs ?? 0);
  return {
    turnsPerSecond: (ok.length * 1000) / load.durationMs,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

/** The medians rounded for tables. */
export function roundedRow(row: RoundsRow): RoundsRow {
  return {
    ...row,
    turnsPerSecond: round(row.turnsPerSecond),
    p50Ms: round(row.p50Ms, 2),
    p99Ms: round(row.p99Ms, 2),
  };
}

/** Throughput and p99 of `row` as multiples of `base`'s (1 without a base). */
export function ratiosTo(row: RoundsRow, base: RoundsRow | undefined) {
  return {
    throughputRatio: base ? round(row.turnsPerSecond / base.turnsPerSecond, 2) : 1,
    p99Ratio: base ? round(row.p99Ms / base.p99Ms, 2) : 1,
  };
}
