import pc from "picocolors";
import { textTable } from "../report/palette.ts";
import { contenderOf } from "./bench-apps.ts";
import type { FrameworkCostRow, FrameworksResult, FrameworkThroughputRow } from "./frameworks.ts";
import { GROWTH_LENGTHS, type GrowthRow } from "./growth.ts";
import type { MemoryRow, RedisMemory, TtlCheck } from "./memory.ts";
import type { Traffic } from "./redis-traffic.ts";
import type { RoundTripsRow } from "./round-trips.ts";
import type { ThroughputRow } from "./throughput.ts";
import type { TurnWritesRow } from "./turn-writes.ts";

export const head = (cells: string[]) => cells.map((c) => pc.bold(c));

/** Ratios against a target: green when met. */
function ratio(value: number, ok: boolean): string {
  return ok ? pc.green(`${value}x`) : pc.red(`${value}x`);
}

export function renderThroughput(rows: readonly ThroughputRow[], rounds: number): string {
  const table = textTable({
    head: head(["app", "turns/s", "p50 ms", "p99 ms", "throughput vs broken", "p99 vs broken"]),
  });
  for (const row of rows) {
    const isFixed = contenderOf(row.label).app === "fixed";
    table.push([
      row.label,
      String(row.turnsPerSecond),
      String(row.p50Ms),
      String(row.p99Ms),
      isFixed ? ratio(row.throughputRatio, row.throughputRatio >= 0.8) : `${row.throughputRatio}x`,
      isFixed ? ratio(row.p99Ratio, row.p99Ratio <= 2) : `${row.p99Ratio}x`,
    ]);
  }
  return `${pc.bold(`Throughput and latency (medians of ${rounds} interleaved rounds)`)}\n${table.toString()}\n${pc.dim("targets for fixed: throughput >= 0.8x broken, p99 <= 2x broken")}`;
}

export function renderRoundTrips(rows: readonly RoundTripsRow[]): string {
  const table = textTable({
    head: head(["app", "Redis round trips per turn", "one turn's commands"]),
  });
  for (const row of rows) {
    const count =
      contenderOf(row.label).app === "fixed"
        ? ratio(row.roundTripsPerTurn, row.roundTripsPerTurn <= 2).replace("x", "")
        : String(row.roundTripsPerTurn);
    table.push([row.label, count, row.sample.join(", ") || pc.dim("none")]);
  }
  return `${pc.bold("Cost per turn (MONITOR, commands sent by clients; target for fixed: at most 2)")}\n${table.toString()}`;
}

export function renderGrowth(rows: readonly GrowthRow[]): string {
  const table = textTable({
    head: head([
      "app",
      ...GROWTH_LENGTHS.map((n) => `${n.toLocaleString("en")} msgs`),
      "agent saw at 10,000",
    ]),
  });
  for (const row of rows) {
    table.push([
      row.label,
      ...GROWTH_LENGTHS.map((n) => `${row.medianMs[n] ?? "-"} ms`),
      String(row.messagesSeen[10_000] ?? "-"),
    ]);
  }
  return `${pc.bold("Growth: median latency of one turn by history length")}\n${table.toString()}`;
}

export function renderMemory(
  rows: readonly MemoryRow[],
  redis: RedisMemory | undefined,
  ttl: TtlCheck | undefined,
): string {
  const checkpoints = rows[0]?.checkpoints.map((c) => c.conversations) ?? [];
  const table = textTable({
    head: head([
      "app (mean per worker)",
      ...checkpoints.map((n) => `after ${n.toLocaleString("en")} conv.`),
    ]),
  });
  for (const row of rows) {
    table.push([
      row.label,
      ...row.checkpoints.map((c) => `RSS ${c.rssMb} MB, heap ${c.heapMb} MB`),
    ]);
  }
  const lines = [
    pc.bold("Memory: worker RSS and heap as conversations accumulate"),
    table.toString(),
  ];
  if (redis) {
    lines.push(
      `Redis: ${redis.bytesPerConversation.toLocaleString("en")} bytes per conversation of ${redis.messagesPerConversation} messages (MEMORY USAGE of its keys)`,
    );
  }
  if (ttl) {
    lines.push(
      `TTL: ${ttl.conversations} conversations with a ${ttl.ttlSeconds} s idle TTL: ${ttl.presentBefore} present, ${ttl.presentAfter} left after ${ttl.waitedSeconds} s idle`,
    );
  }
  return lines.join("\n");
}

/** The frameworks section's four tables. */
export function renderFrameworks(result: FrameworksResult, rounds: number): string {
  return [
    renderFrameworkThroughput(result.throughput, rounds),
    renderFrameworkCost(result.cost),
    renderTurnWrites(result.writes),
    renderFrameworkGrowth(result.growth),
  ].join("\n\n");
}

export function renderFrameworkThroughput(
  rows: readonly FrameworkThroughputRow[],
  rounds: number,
): string {
  const table = textTable({
    head: head(["app", "turns/s", "p50 ms", "p99 ms", "throughput vs twin", "p99 vs twin"]),
  });
  for (const row of rows) {
    // A broken twin is its own base: 1x, as the main table's broken row.
    const vs = (ratio: number) => (row.twin ? `${ratio}x` : pc.dim(`${ratio}x`));
    table.push([
      row.label,
      String(row.turnsPerSecond),
      String(row.p50Ms),
      String(row.p99Ms),
      vs(row.throughputRatio),
      vs(row.p99Ratio),
    ]);
  }
  const title = `Frameworks: throughput and latency (medians of ${rounds} interleaved rounds, the main table's load)`;
  return `${pc.bold(title)}\n${table.toString()}\n${pc.dim("ratios: each fixed app against its own broken twin (same framework, state in worker memory)")}`;
}

export function renderFrameworkCost(rows: readonly FrameworkCostRow[]): string {
  const table = textTable({
    head: head([
      "app",
      "Redis round trips per turn",
      "one turn's commands",
      "bytes sent to Redis per turn",
      "bytes received per turn",
    ]),
  });
  for (const row of rows) {
    table.push([
      row.label,
      String(row.roundTripsPerTurn),
      row.sample.join(", ") || pc.dim("none"),
      formatBytes(row.bytesPerTurn.sent),
      formatBytes(row.bytesPerTurn.received),
    ]);
  }
  const turns = rows[0]?.turns ?? 0;
  return [
    pc.bold("Frameworks: cost per turn"),
    table.toString(),
    pc.dim(
      `round trips: MONITOR, commands clients sent about the conversation. bytes: INFO stats deltas (total_net_input_bytes, total_net_output_bytes) over turns 3 to ${turns + 2} of a new conversation, sequential, every client of that Redis, nothing else running`,
    ),
  ].join("\n");
}

export function renderTurnWrites(rows: readonly TurnWritesRow[]): string {
  const table = textTable({
    head: head([
      "one turn, in process",
      "checkpoints (put)",
      "pending writes (putWrites)",
      "channel values (newVersions)",
      "session items",
      "Redis commands",
      "bytes sent / received",
    ]),
  });
  for (const row of rows) {
    const graph = row.framework === "langgraph";
    const dash = pc.dim("-");
    table.push([
      row.label,
      graph ? String(row.checkpoints) : dash,
      graph ? String(row.pendingWrites) : dash,
      graph ? channelValues(row.channelsPerPut) : dash,
      graph ? dash : String(row.items),
      `${row.commands.length}: ${grouped(row.commands).join("\n")}`,
      trafficText(row.traffic),
    ]);
  }
  const length = rows[0]?.historyLength ?? 0;
  return [
    pc.bold(`Frameworks: what one turn writes, on a thread of ${length} messages (in process)`),
    table.toString(),
    pc.dim(
      "calls counted on the saver; items: the session list's growth; commands: the next turn under MONITOR (the app adds acquireTurn); bytes: INFO stats deltas",
    ),
  ].join("\n");
}

export function renderFrameworkGrowth(rows: readonly GrowthRow[]): string {
  const lengths = GROWTH_LENGTHS.filter((n) => rows.some((row) => row.medianMs[n] !== undefined));
  const table = textTable({
    head: head(["app", ...lengths.map((n) => `${n.toLocaleString("en")} msgs`)]),
  });
  for (const row of rows) {
    table.push([row.label, ...lengths.map((n) => growthCell(row, n))]);
  }
  return [
    pc.bold("Frameworks: growth, median latency and Redis bytes of one turn by history length"),
    table.toString(),
    pc.dim("bytes: mean per turn, sent to Redis / received from it (INFO stats deltas)"),
  ].join("\n");
}

/** "6" then one line per put: the channels whose new values it wrote. */
function channelValues(perPut: readonly string[][]): string {
  const total = perPut.reduce((n, channels) => n + channels.length, 0);
  return [
    String(total),
    ...perPut.map((channels, i) => `put ${i + 1}: ${channels.join(", ")}`),
  ].join("\n");
}

function growthCell(row: GrowthRow, length: number): string {
  const ms = row.medianMs[length];
  const bytes = row.bytesPerTurn[length];
  if (ms === undefined || !bytes) return pc.dim("-");
  return `${ms} ms\n${trafficText(bytes)}`;
}

export function trafficText({ sent, received }: Traffic): string {
  return `${formatBytes(sent)} / ${formatBytes(received)}`;
}

/** "512 B", "12.3 KB", "4.56 MB" (1 KB = 1,024 bytes). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

/** Runs of equal neighbours folded: ["a", "b", "b"] -> ["a", "b ×2"]. */
function grouped(values: readonly string[]): string[] {
  const runs: { value: string; count: number }[] = [];
  for (const value of values) {
    const last = runs.at(-1);
    if (last?.value === value) last.count += 1;
    else runs.push({ value, count: 1 });
  }
  return runs.map(({ value, count }) => (count > 1 ? `${value} ×${count}` : value));
}
