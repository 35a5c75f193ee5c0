import type { RunRecord, TurnRecord } from "../load/records.ts";
import type { Anomaly } from "./types.ts";

const WINDOW_MS = 60_000;

/**
 * The most turns a per-minute limit may let through during the run: the limit once per
 * window the run can touch. A window starts at a user's first turn after the previous one
 * ended, so a run lasting D ms touches at most floor(D / 1 min) + 1 of them.
 */
export function turnsAllowed(limitPerMinute: number, turns: readonly TurnRecord[]): number {
  if (turns.length === 0) return 0;
  const sent = turns.map((turn) => turn.sentAt);
  const lastAnswer = Math.max(...turns.map((turn) => turn.answeredAt ?? turn.sentAt));
  const spanMs = lastAnswer - Math.min(...sent);
  return limitPerMinute * (Math.floor(spanMs / WINDOW_MS) + 1);
}

/**
 * The load test plays one user: with a turn limit, every turn acknowledged beyond what the
 * limit allows is `over-limit`, in the order the client saw them acknowledged.
 */
export function findOverLimit(run: RunRecord): Anomaly[] {
  const limit = run.turnLimitPerMinute;
  if (limit === undefined) return [];
  const allowed = turnsAllowed(limit, run.turns);
  const acknowledged = run.turns
    .filter((turn) => turn.outcome === "ok")
    .sort((a, b) => (a.answeredAt ?? 0) - (b.answeredAt ?? 0));
  return acknowledged.slice(allowed).map((turn, index) => ({
    kind: "over-limit",
    conversationId: turn.conversationId,
    turnId: turn.turnId,
    detail: `turn ${turn.index + 1} was acknowledged as turn ${allowed + index + 1} of this user, over the limit of ${limit} a minute (at most ${allowed} in this run)`,
  }));
}
