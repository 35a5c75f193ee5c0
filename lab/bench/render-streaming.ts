import pc from "picocolors";
import { textTable } from "../report/palette.ts";
import { round } from "../stats.ts";
import { DEFAULT_CHUNK_DELAY_MS } from "./bench-apps.ts";
import { formatBytes, head, trafficText } from "./render.ts";
import {
  modelMs,
  STREAM_BROKEN,
  STREAM_FIXED,
  type StreamCostRow,
  type StreamGrowthRow,
  type StreamingResult,
  tallyText,
} from "./streaming.ts";

/** The streaming section's four tables. */
export function renderStreaming(result: StreamingResult, rounds: number): string {
  return [
    renderStreamLatency(result, rounds),
    renderStreamCost(result),
    renderStreamBatching(result, rounds),
    renderStreamGrowth(result),
  ].join("\n\n");
}

const pair = (a: number, b: number, unit = "") => `${a}${unit} / ${b}${unit}`;

/** Broken against fixed with the defaults: time to first delta and to done under load. */
export function renderStreamLatency(result: StreamingResult, rounds: number): string {
  const table = textTable({
    head: head([
      "app",
      "first delta p50 / p99 ms",
      "done p50 / p99 ms",
      "first delta vs broken",
      "done vs broken",
      "done p50 over the model",
      "failed",
    ]),
  });
  const model = modelMs(result.replyWords, result.agentLatencyMs, DEFAULT_CHUNK_DELAY_MS);
  for (const row of rowsOf(result.latency, [STREAM_BROKEN, STREAM_FIXED])) {
    table.push([
      row.label,
      pair(row.firstDeltaP50Ms, row.firstDeltaP99Ms),
      pair(row.doneP50Ms, row.doneP99Ms),
      pair(row.ratios.firstDeltaP50, row.ratios.firstDeltaP99, "x"),
      pair(row.ratios.doneP50, row.ratios.doneP99, "x"),
      `+${round(row.doneP50Ms - model, 1)} ms`,
      String(row.failed),
    ]);
  }
  return [
    pc.bold(`Streaming: time to first delta and to done (medians of ${rounds} interleaved rounds)`),
    table.toString(),
    pc.dim(
      `each run: ${result.turnsPerRun} streamed turns (each the first of its conversation, ${result.replyWords}-word replies) over ${result.connections} keep-alive connections, 2 per worker; the model alone takes ${model} ms a reply (${result.agentLatencyMs} ms, then a word every ${DEFAULT_CHUNK_DELAY_MS} ms); times from sending the POST, as its client parses the events; ratios p50 / p99`,
    ),
  ].join("\n");
}

/** Broken against fixed with the defaults: what a streamed turn sends to Redis. */
export function renderStreamCost(result: StreamingResult): string {
  const table = textTable({
    head: head([
      "app",
      "Redis commands per turn",
      "of them about the stream",
      "one turn's commands, counted",
      "bytes sent to Redis / received per turn",
    ]),
  });
  const reference = result.jsonReference;
  const rows = rowsOf(result.cost, [STREAM_BROKEN, STREAM_FIXED]);
  for (const row of reference ? [...rows, reference] : rows) {
    table.push([
      row === reference ? `${row.label}, the same turn as JSON` : row.label,
      String(row.commandsPerTurn),
      String(row.streamCommandsPerTurn),
      tallyText(row.tallies.at(-1)).join("\n") || pc.dim("none"),
      trafficText(row.bytesPerTurn),
    ]);
  }
  const fixed = rows.find((row) => row.label === STREAM_FIXED);
  return [
    pc.bold(`Streaming: Redis cost per streamed turn (${result.replyWords}-word replies)`),
    table.toString(),
    ...(fixed && reference ? [streamShare(fixed, reference)] : []),
    pc.dim(
      "commands: MONITOR, sent by clients about the conversation (the producer's and the reader's; a script call is one), mean over 5 sequential turns; bytes: INFO stats deltas over 10 sequential turns, every client of that Redis, nothing else running",
    ),
  ].join("\n");
}

/** What streaming adds to the same turn answered as JSON, on the fixed app. */
function streamShare(streamed: StreamCostRow, json: StreamCostRow): string {
  const commands = round(streamed.commandsPerTurn - json.commandsPerTurn, 1);
  const sent = streamed.bytesPerTurn.sent - json.bytesPerTurn.sent;
  const received = streamed.bytesPerTurn.received - json.bytesPerTurn.received;
  return `the stream in Redis adds ${commands} commands and ${formatBytes(sent)} sent / ${formatBytes(received)} received to the fixed app's turn`;
}

/** Every flush interval, for the default model and a bursty one: cost and time per turn. */
export function renderStreamBatching(result: StreamingResult, rounds: number): string {
  const table = textTable({
    head: head([
      "app",
      "commands per turn (stream)",
      "stream appends per turn",
      "bytes sent / received",
      "first delta p50 / p99 ms",
      "done p50 / p99 ms",
      "done p50 vs broken",
    ]),
  });
  for (const cost of result.cost) {
    const latency = result.latency.find((row) => row.label === cost.label);
    table.push([
      cost.label,
      `${cost.commandsPerTurn} (${cost.streamCommandsPerTurn})`,
      String(appendsOf(cost)),
      trafficText(cost.bytesPerTurn),
      latency ? pair(latency.firstDeltaP50Ms, latency.firstDeltaP99Ms) : pc.dim("-"),
      latency ? pair(latency.doneP50Ms, latency.doneP99Ms) : pc.dim("-"),
      latency ? `${latency.ratios.doneP50}x` : pc.dim("-"),
    ]);
  }
  return [
    pc.bold(`Streaming: batching the deltas (STREAM_FLUSH_MS), ${result.replyWords}-word replies`),
    table.toString(),
    pc.dim(
      `commands and bytes as above (sequential turns); times under the load above (medians of ${rounds} rounds); stream appends: evalsha streamAppend calls per turn (the first opens the stream); bursty model: the whole reply at once (AGENT_CHUNK_DELAY_MS=0); ratios to the broken app with the same model`,
    ),
  ].join("\n");
}

/** Broken against fixed as replies grow: commands, bytes and time of one turn. */
export function renderStreamGrowth(result: StreamingResult): string {
  const words = Object.keys(result.growth[0]?.byWords ?? {}).map(Number);
  const table = textTable({
    head: head([
      "app",
      ...words.map((n) => {
        const model = modelMs(n, result.agentLatencyMs, DEFAULT_CHUNK_DELAY_MS);
        return `${n.toLocaleString("en")} words (model ${(model / 1000).toFixed(2)} s)`;
      }),
    ]),
  });
  for (const row of result.growth) {
    table.push([row.label, ...words.map((n) => growthCell(row, n, result.agentLatencyMs))]);
  }
  return [
    pc.bold("Streaming: one turn by reply length (one delta per word)"),
    table.toString(),
    pc.dim(
      "per turn: Redis commands (of them about the stream); bytes sent / received; time to done (over the model's own time), one turn at a time: median of 3 turns, 2 at 500 words, 1 at 2,000",
    ),
  ].join("\n");
}

function growthCell(row: StreamGrowthRow, words: number, agentLatencyMs: number): string {
  const cost = row.byWords[words];
  if (!cost) return pc.dim("-");
  const overModel = round(cost.doneMs - modelMs(words, agentLatencyMs, DEFAULT_CHUNK_DELAY_MS), 1);
  return [
    `${cost.commandsPerTurn} cmds (${cost.streamCommandsPerTurn})`,
    trafficText(cost.bytesPerTurn),
    `done ${cost.doneMs} ms (+${overModel})`,
  ].join("\n");
}

/** The streamAppend calls per watched turn, mean (the first of a turn's opens the stream). */
function appendsOf(cost: StreamCostRow): number {
  const appends = cost.tallies.map((tally) => tally["evalsha streamAppend"] ?? 0);
  return round(appends.reduce((sum, n) => sum + n, 0) / Math.max(1, appends.length), 1);
}

/** The rows with these labels, in this order. */
function rowsOf<T extends { label: string }>(rows: readonly T[], labels: readonly string[]): T[] {
  return labels.flatMap((label) => rows.filter((row) => row.label === label));
}
