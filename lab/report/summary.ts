import type { CheckResult, Verdict } from "../check/types.ts";
import type { LoadResult } from "../load/run-load.ts";
import { percentile, round } from "../stats.ts";

/** The numbers a person compares between runs: one row of the comparison table. */
export interface RunSummary {
  app: string;
  scenario: string;
  workers: number;
  sticky: boolean;
  verdict: Verdict;
  conversations: number;
  turnsSent: number;
  acknowledged: number;
  /** Acknowledged turns missing from at least one successful final read (the checker's `lost`). */
  lost: number;
  lostPct: number;
  /** Acknowledged turns missing from every successful final read of their conversation. */
  lostEverywhere: number;
  lostEverywherePct: number;
  stale: number;
  stalePct: number;
  conversationsAffected: number;
  /** Mean share of a conversation's acknowledged turns that one final read shows (100 when correct). */
  historyVisiblePct: number;
  meanWorkersPerConversation: number;
  turnsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Present when the run streamed its turns (--stream). */
  stream?: StreamSummary;
}

/** A streamed run's streams: how many were dropped and resumed where, and what went wrong. */
export interface StreamSummary {
  /** --disconnect-rate: the share of turns dropped mid-stream. */
  disconnectRate: number;
  turns: number;
  dropped: number;
  resumes: number;
  /** Resumes answered by another worker than the one producing the turn. */
  crossed: number;
  gap: number;
  duplicate: number;
  mismatch: number;
}

export function summarize(
  app: string,
  scenario: string,
  load: LoadResult,
  check: CheckResult,
): RunSummary {
  const t = check.totals;
  const latencies = load.turns
    .filter((turn) => turn.outcome === "ok" && turn.latencyMs !== undefined)
    .map((turn) => turn.latencyMs as number);
  const pct = (n: number) => (t.acknowledged === 0 ? 0 : round((100 * n) / t.acknowledged));
  const lostEverywhere = lostFromEveryRead(load);
  return {
    app,
    scenario,
    workers: load.workersExpected,
    sticky: load.options.sticky,
    verdict: check.verdict,
    conversations: t.conversations,
    turnsSent: t.turnsSent,
    acknowledged: t.acknowledged,
    lost: t.lost,
    lostPct: pct(t.lost),
    lostEverywhere,
    lostEverywherePct: pct(lostEverywhere),
    stale: t.stale,
    stalePct: pct(t.stale),
    conversationsAffected: t.conversationsAffected,
    historyVisiblePct: historyVisiblePct(load),
    meanWorkersPerConversation: t.meanWorkersPerConversation,
    turnsPerSecond: load.durationMs > 0 ? round((t.acknowledged * 1000) / load.durationMs) : 0,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    stream: load.stream ? streamSummary(load, check) : undefined,
  };
}

function streamSummary(load: LoadResult, check: CheckResult): StreamSummary {
  const t = check.totals;
  return {
    disconnectRate: load.disconnectRate ?? 0,
    turns: t.streamedTurns,
    dropped: t.streamsDropped,
    resumes: t.resumes,
    crossed: t.resumesCrossedWorkers,
    gap: t.streamGap,
    duplicate: t.streamDuplicate,
    mismatch: t.streamMismatch,
  };
}

/** Acknowledged turns that no successful read of their conversation shows: gone for everyone. */
function lostFromEveryRead(load: LoadResult): number {
  const shownBy = new Map<string, Set<string>>();
  for (const read of load.reads) {
    if (!read.ok) continue;
    const shown = shownBy.get(read.conversationId) ?? new Set<string>();
    for (const message of read.messages) shown.add(message.turnId);
    shownBy.set(read.conversationId, shown);
  }
  return load.turns.filter(
    (turn) =>
      turn.outcome === "ok" &&
      shownBy.has(turn.conversationId) &&
      !shownBy.get(turn.conversationId)?.has(turn.turnId),
  ).length;
}

/** What a user reloading the page sees: per successful read, the share of acknowledged turns in it. */
function historyVisiblePct(load: LoadResult): number {
  const acked = new Map<string, Set<string>>();
  for (const turn of load.turns) {
    if (turn.outcome !== "ok") continue;
    const ids = acked.get(turn.conversationId) ?? new Set<string>();
    ids.add(turn.turnId);
    acked.set(turn.conversationId, ids);
  }
  const shares = load.reads
    .filter((read) => read.ok && (acked.get(read.conversationId)?.size ?? 0) > 0)
    .map((read) => {
      const ids = acked.get(read.conversationId) as Set<string>;
      const shown = new Set(read.messages.filter((m) => ids.has(m.turnId)).map((m) => m.turnId));
      return shown.size / ids.size;
    });
  if (shares.length === 0) return 0;
  return round((100 * shares.reduce((a, b) => a + b, 0)) / shares.length);
}
