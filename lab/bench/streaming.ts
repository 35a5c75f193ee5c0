import { median, round } from "../stats.ts";
import {
  type BenchEnvironment,
  type Contender,
  contenderOf,
  DEFAULT_CHUNK_DELAY_MS,
  DEFAULT_FLUSH_MS,
  STREAMING_CONTENDERS,
  streamingContender,
} from "./bench-apps.ts";
import { runStreamedLoad, type StreamedLoadRun } from "./streamed-load.ts";
import { textForReplyOf } from "./streamed-turn.ts";
import {
  type CommandTally,
  measureStreamedTurnCost,
  type StreamedTurnCost,
} from "./streamed-turn-cost.ts";
import { interleavedRuns } from "./throughput.ts";

/** The lesson's pair with the apps' defaults: stream in worker memory, stream in Redis. */
export const STREAM_BROKEN = streamingContender("broken", {
  flushMs: DEFAULT_FLUSH_MS,
  chunkDelayMs: DEFAULT_CHUNK_DELAY_MS,
}).label;
export const STREAM_FIXED = streamingContender("fixed", {
  flushMs: DEFAULT_FLUSH_MS,
  chunkDelayMs: DEFAULT_CHUNK_DELAY_MS,
}).label;

/** Words of every reply of the load and the cost tables (the scripted model: one delta each). */
export const STREAM_REPLY_WORDS = 20;
/** Reply lengths of the growth table, in words. */
export const STREAM_GROWTH_WORDS = [20, 100, 500, 2_000] as const;

/** One contender's load runs, their medians, and ratios to the broken app of the same model. */
export interface StreamLatencyRow {
  label: string;
  runs: StreamedLoadRun[];
  firstDeltaP50Ms: number;
  firstDeltaP99Ms: number;
  doneP50Ms: number;
  doneP99Ms: number;
  /** Turns that did not stream to done, over all rounds. */
  failed: number;
  /** The broken app the ratios are taken against (itself for a broken row: all 1). */
  base: string;
  ratios: { firstDeltaP50: number; firstDeltaP99: number; doneP50: number; doneP99: number };
}

/** One contender's cost per streamed turn, rounded for tables. */
export interface StreamCostRow extends Omit<StreamedTurnCost, "firstDeltaMs" | "doneMs"> {
  label: string;
  /** Median of the sequential, byte-counted turns, in ms. */
  firstDeltaMs: number;
  doneMs: number;
}

/** One contender's cost and time of a turn, by reply length in words. */
export interface StreamGrowthRow {
  label: string;
  byWords: Record<number, StreamCostRow>;
}

export interface StreamingResult {
  replyWords: number;
  /** AGENT_LATENCY_MS: the model's wait before its first word. */
  agentLatencyMs: number;
  turnsPerRun: number;
  connections: number;
  latency: StreamLatencyRow[];
  cost: StreamCostRow[];
  /** The fixed app's same turn answered as JSON: the cost the stream adds to. */
  jsonReference?: StreamCostRow;
  growth: StreamGrowthRow[];
}

export interface StreamingOptions {
  rounds: number;
  /** The apps' AGENT_LATENCY_MS (for the tables' model time). */
  agentLatencyMs: number;
  connections: number;
  /** Streamed turns per load run. */
  turnsPerRun: number;
  /** Sequential turns whose bytes are counted per contender (10). */
  countedTurns?: number;
  /** Sequential turns watched with MONITOR per contender (5). */
  watchedTurns?: number;
  /** Reply lengths of the growth table; the longest are counted on fewer turns. */
  growthWords?: readonly number[];
  onRun?: (label: string, round: number, run: StreamedLoadRun) => void;
  note?: (message: string) => void;
}

/** The streaming section: latency under load, cost per turn by setting, growth with length. */
export async function measureStreaming(
  env: BenchEnvironment,
  options: StreamingOptions,
): Promise<StreamingResult> {
  const contenders = STREAMING_CONTENDERS.filter((c) => env.apps.has(c.label));
  options.note?.(
    `streaming: ${options.rounds} interleaved rounds of ${options.turnsPerRun} streamed turns over ${options.connections} keep-alive connections, per app`,
  );
  const latency = await measureStreamLatency(env, contenders, options);
  options.note?.("streaming: Redis commands (MONITOR) and bytes (INFO stats) per streamed turn");
  const text = textForReplyOf(STREAM_REPLY_WORDS);
  const cost: StreamCostRow[] = [];
  for (const contender of contenders) {
    cost.push(await measureCost(env, contender.label, text, options));
  }
  const jsonReference = env.apps.has(STREAM_FIXED)
    ? await measureCost(env, STREAM_FIXED, text, { ...options, asJson: true })
    : undefined;
  options.note?.("streaming: growth with the reply's length (a 2,000-word reply takes ~20 s)");
  const growth = await measureStreamGrowth(env, options);
  return {
    replyWords: STREAM_REPLY_WORDS,
    agentLatencyMs: options.agentLatencyMs,
    turnsPerRun: options.turnsPerRun,
    connections: options.connections,
    latency,
    cost,
    jsonReference,
    growth,
  };
}

/**
 * The same streamed load against every contender, interleaved over rounds; medians across
 * rounds, each row's ratios to the broken app whose model writes at the same pace.
 */
export async function measureStreamLatency(
  env: BenchEnvironment,
  contenders: readonly Contender[],
  options: StreamingOptions,
): Promise<StreamLatencyRow[]> {
  const text = textForReplyOf(STREAM_REPLY_WORDS);
  const shape = { turns: options.turnsPerRun, connections: options.connections, text };
  const runs = await interleavedRuns(
    contenders,
    options.rounds,
    (contender) => runStreamedLoad(appUrlOf(env, contender.label), env.token, shape),
    options.onRun,
  );
  const rows = contenders.map((c) => mediansOf(c.label, runs.get(c.label) ?? []));
  return rows.map((row) => {
    const base = rows.find((r) => r.label === brokenTwinOf(row.label)) ?? row;
    return { ...roundedLatency(row), base: base.label, ratios: latencyRatios(row, base) };
  });
}

type LatencyMedians = Omit<StreamLatencyRow, "base" | "ratios">;

function mediansOf(label: string, runs: StreamedLoadRun[]): LatencyMedians {
  const of = (pick: (run: StreamedLoadRun) => number) => median(runs.map(pick));
  return {
    label,
    runs,
    firstDeltaP50Ms: of((r) => r.firstDeltaP50Ms),
    firstDeltaP99Ms: of((r) => r.firstDeltaP99Ms),
    doneP50Ms: of((r) => r.doneP50Ms),
    doneP99Ms: of((r) => r.doneP99Ms),
    failed: runs.reduce((n, r) => n + r.failed, 0),
  };
}

function roundedLatency(row: LatencyMedians): LatencyMedians {
  return {
    ...row,
    firstDeltaP50Ms: round(row.firstDeltaP50Ms, 2),
    firstDeltaP99Ms: round(row.firstDeltaP99Ms, 2),
    doneP50Ms: round(row.doneP50Ms, 1),
    doneP99Ms: round(row.doneP99Ms, 1),
  };
}

function latencyRatios(row: LatencyMedians, base: LatencyMedians): StreamLatencyRow["ratios"] {
  const ratio = (pick: (r: LatencyMedians) => number) => round(pick(row) / pick(base), 2);
  return {
    firstDeltaP50: ratio((r) => r.firstDeltaP50Ms),
    firstDeltaP99: ratio((r) => r.firstDeltaP99Ms),
    doneP50: ratio((r) => r.doneP50Ms),
    doneP99: ratio((r) => r.doneP99Ms),
  };
}

/** The broken app whose model writes at the same pace as this contender's. */
export function brokenTwinOf(label: string): string {
  const chunkDelayMs = contenderOf(label).streaming?.chunkDelayMs ?? DEFAULT_CHUNK_DELAY_MS;
  return streamingContender("broken", { flushMs: DEFAULT_FLUSH_MS, chunkDelayMs }).label;
}

/** One contender's cost per turn for one text, medians of its sequential turns' times. */
async function measureCost(
  env: BenchEnvironment,
  label: string,
  text: string,
  options: Pick<StreamingOptions, "countedTurns" | "watchedTurns"> & { asJson?: boolean },
): Promise<StreamCostRow> {
  const cost = await measureStreamedTurnCost(env, label, {
    text,
    asJson: options.asJson,
    countedTurns: options.countedTurns ?? 10,
    watchedTurns: options.watchedTurns ?? 5,
  });
  return {
    ...cost,
    label,
    commandsPerTurn: round(cost.commandsPerTurn, 1),
    streamCommandsPerTurn: round(cost.streamCommandsPerTurn, 1),
    firstDeltaMs: round(median(cost.firstDeltaMs), 2),
    doneMs: round(median(cost.doneMs), 1),
  };
}

/**
 * The broken and fixed apps (defaults, unless `labels` names others) on replies of 20 ...
 * 2,000 words, length by length (both apps at one length before the next, so drift hits both
 * alike): commands, bytes and time per turn, one turn at a time.
 */
export async function measureStreamGrowth(
  env: BenchEnvironment,
  options: Pick<StreamingOptions, "growthWords"> & { labels?: readonly string[] },
): Promise<StreamGrowthRow[]> {
  const chosen = options.labels ?? [STREAM_BROKEN, STREAM_FIXED];
  const labels = chosen.filter((label) => env.apps.has(label));
  const rows = labels.map((label): StreamGrowthRow => ({ label, byWords: {} }));
  for (const words of options.growthWords ?? STREAM_GROWTH_WORDS) {
    for (const row of rows) {
      row.byWords[words] = await measureCost(env, row.label, textForReplyOf(words), turnsAt(words));
    }
  }
  return rows;
}

/** A reply of 2,000 words takes the model ~20 s (a word per 10 ms): long ones on fewer turns. */
function turnsAt(words: number) {
  if (words >= 1_000) return { countedTurns: 1, watchedTurns: 1 };
  if (words >= 500) return { countedTurns: 2, watchedTurns: 1 };
  return { countedTurns: 3, watchedTurns: 2 };
}

/** The scripted model's own time for a reply of `words`: its latency, then a pause per word. */
export function modelMs(words: number, agentLatencyMs: number, chunkDelayMs: number): number {
  return agentLatencyMs + (words - 1) * chunkDelayMs;
}

function appUrlOf(env: BenchEnvironment, label: string): string {
  const app = env.apps.get(label);
  if (!app) throw new Error(`${label} is not running`);
  return app.url;
}

/** "evalsha acquireTurn, evalsha streamAppend ×21, xread block ×21, ...": one turn, counted. */
export function tallyText(tally: CommandTally | undefined): string[] {
  return Object.entries(tally ?? {}).map(([name, n]) => (n > 1 ? `${name} ×${n}` : name));
}
