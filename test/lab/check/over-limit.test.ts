import { describe, expect, it } from "vitest";
import { checkRun } from "../../../lab/check/checker.ts";
import { findOverLimit, turnsAllowed } from "../../../lab/check/over-limit.ts";
import type { RunRecord, TurnRecord } from "../../../lab/load/records.ts";
import { message, W0, W1 } from "./fixtures.ts";

/** One user's turns of conversation `id`, 1 s apart; `refused` ones got 429. */
function turns(id: string, count: number, refused: (index: number) => boolean, startMs = 0) {
  let acknowledged = 0;
  return Array.from({ length: count }, (_, index): TurnRecord => {
    const sentAt = startMs + index * 1000;
    const ok = !refused(index);
    const seen = ok ? 2 * acknowledged++ + 1 : undefined;
    return {
      conversationId: id,
      index,
      turnId: `${id}-t${index}`,
      text: `q${index}`,
      sentAt,
      answeredAt: sentAt + 10,
      outcome: ok ? "ok" : "failed",
      status: ok ? 200 : 429,
      servedBy: ok ? (index % 2 ? W1 : W0) : undefined,
      messagesSeen: seen,
    };
  });
}

/** A run whose final reads hold exactly the acknowledged turns. */
function runOf(records: TurnRecord[], turnLimitPerMinute?: number): RunRecord {
  const ok = records.filter((t) => t.outcome === "ok");
  const ids = [...new Set(records.map((t) => t.conversationId))];
  const reads = ids.flatMap((conversationId) =>
    [W0, W1].map((servedBy) => ({
      conversationId,
      ok: true,
      status: 200,
      servedBy,
      messages: ok
        .filter((t) => t.conversationId === conversationId)
        .flatMap((t) => [message(t, "user"), message(t, "assistant")]),
    })),
  );
  return { turns: records, reads, workersExpected: 2, turnLimitPerMinute };
}

describe("the turn limit check (one user, the load test's)", () => {
  it("allows the limit once per minute window the run can touch", () => {
    expect(turnsAllowed(5, [])).toBe(0);
    expect(
      turnsAllowed(
        5,
        turns("c", 3, () => false),
      ),
    ).toBe(5);
    // 0 s to 60.01 s: a second window may have started.
    expect(
      turnsAllowed(
        5,
        turns("c", 61, () => false),
      ),
    ).toBe(10);
  });

  it("flags every turn acknowledged beyond the limit, in acknowledgement order", () => {
    const run = runOf(
      turns("c", 8, () => false),
      5,
    );
    const anomalies = findOverLimit(run);
    expect(anomalies.map((a) => a.turnId)).toEqual(["c-t5", "c-t6", "c-t7"]);
    expect(anomalies[0]?.detail).toContain("over the limit of 5 a minute");
    const result = checkRun(run);
    expect(result.verdict).toBe("invalid");
    expect(result.totals.overLimit).toBe(3);
  });

  it("a run that refused everything past the limit is valid", () => {
    const result = checkRun(
      runOf(
        turns("c", 8, (i) => i >= 5),
        5,
      ),
    );
    expect(result.totals.overLimit).toBe(0);
    expect(result.verdict).toBe("valid");
  });

  it("a run that sent no more than the limit tested nothing: unknown", () => {
    const result = checkRun(
      runOf(
        turns("c", 5, () => false),
        5,
      ),
    );
    expect(result.verdict).toBe("unknown");
    expect(result.reasons.join(" ")).toContain("the limit was never tested");
  });

  it("without a limit, nothing is checked", () => {
    expect(findOverLimit(runOf(turns("c", 8, () => false)))).toEqual([]);
  });
});
