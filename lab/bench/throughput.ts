import { median, percentile, round } from "../stats.ts";
import { type BenchEnvironment, benchLoad, CONTENDERS } from "./bench-apps.ts";

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

export interface ThroughputRow {
  label: string;
  runs: RunMeasure[];
  /** Medians across rounds. */
  turnsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Ratios to the first contender (broken, the in-memory cost floor). */
  throughputRatio: number;
  p99Ratio: number;
}

/**
 * The same load against every contender, interleaved over rounds (the order rotates each
 * round), so drift on the machine hits all of them alike; medians across rounds.
 */
export async function measureThroughput(
  env: BenchEnvironment,
  options: ThroughputOptions,
): Promise<ThroughputRow[]> {
  const runs = new Map<string, RunMeasure[]>(CONTENDERS.map((c) => [c.label, []]));
  for (let round = 0; round < options.rounds; round++) {
    const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]);
    for (const contender of order) {
      if (!contender) continue;
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
      const measure: RunMeasure = {
        turnsPerSecond: (ok.length * 1000) / load.durationMs,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
      };
      runs.get(contender.label)?.push(measure);
      options.onRun?.(contender.label, round + 1, measure.turnsPerSecond);
    }
  }
  const rows = CONTENDERS.map((c) => {
    const measures = runs.get(c.label) ?? [];
    return {
      label: c.label,
      runs: measures,
      turnsPerSecond: median(measures.map((m) => m.turnsPerSecond)),
      p50Ms: median(measures.map((m) => m.p50Ms)),
      p99Ms: median(measures.map((m) => m.p99Ms)),
    };
  });
  const floor = rows[0];
  return rows.map((row) => ({
    ...row,
    turnsPerSecond: round(row.turnsPerSecond),
    p50Ms: round(row.p50Ms, 2),
    p99Ms: round(row.p99Ms, 2),
    throughputRatio: floor ? round(row.turnsPerSecond / floor.turnsPerSecond, 2) : 1,
    p99Ratio: floor ? round(row.p99Ms / floor.p99Ms, 2) : 1,
  }));
}
