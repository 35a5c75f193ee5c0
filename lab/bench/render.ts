import pc from "picocolors";
import { textTable } from "../report/palette.ts";
import { contenderOf } from "./bench-apps.ts";
import { GROWTH_LENGTHS, type GrowthRow } from "./growth.ts";
import type { MemoryRow, RedisMemory, TtlCheck } from "./memory.ts";
import type { RoundTripsRow } from "./round-trips.ts";
import type { ThroughputRow } from "./throughput.ts";

const head = (cells: string[]) => cells.map((c) => pc.bold(c));

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
