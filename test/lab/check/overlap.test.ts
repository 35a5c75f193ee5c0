import { describe, expect, it } from "vitest";
import { COUNT_OF } from "../../../lab/check/anomaly-counts.ts";
import { checkRun } from "../../../lab/check/checker.ts";
import type { AnomalyKind } from "../../../lab/check/types.ts";
import type { FinalRead, RunRecord, TurnRecord } from "../../../lab/load/records.ts";
import type { ChatMessage, ServedBy } from "../../../service/contract.ts";
import { counts, message, NO_ANOMALIES, W0, W1 } from "./fixtures.ts";

// Runs of the load test with --overlap K (several turns of a conversation in flight at once)
// and --retry-rate P (a turnId re-sent, merged into one TurnRecord by the load test).

/** A turn of conversation "a"; times are given explicitly by each test. */
function turn(
  index: number,
  sentAt: number,
  answeredAt: number,
  messagesSeen: number | undefined,
  servedBy: ServedBy = index % 2 === 0 ? W0 : W1,
): TurnRecord {
  return {
    conversationId: "a",
    index,
    turnId: `a-t${index + 1}`,
    text: `question ${index + 1}`,
    sentAt,
    answeredAt,
    outcome: "ok",
    status: 200,
    servedBy,
    messagesSeen,
  };
}

function u(record: TurnRecord): ChatMessage {
  return message(record, "user");
}

function a(record: TurnRecord): ChatMessage {
  return message(record, "assistant");
}

/** The same stored history read from both workers. */
function runOf(turns: TurnRecord[], messages: ChatMessage[]): RunRecord {
  const reads: FinalRead[] = [W0, W1].map((servedBy) => ({
    conversationId: "a",
    ok: true,
    status: 200,
    servedBy,
    messages: [...messages],
  }));
  return { turns, reads, workersExpected: 2 };
}

describe("checkRun under overlap and retries", () => {
  it("flags a turn answered without the history stored before it (stale context)", () => {
    // Both sent before either was answered; both read the same empty history.
    const tA = turn(0, 1_000, 1_100, 1);
    const tB = turn(1, 1_010, 1_120, 1);
    const result = checkRun(runOf([tA, tB], [u(tA), a(tA), u(tB), a(tB)]));

    expect(result.verdict).toBe("invalid");
    expect(counts(result)).toEqual({ ...NO_ANOMALIES, staleContext: 1 });
    expect(result.totals.lost).toBe(0);
    expect(result.totals.interleaved).toBe(0);
    expect(result.conversations[0]?.staleContext).toBe(1);
    expect(result.anomalies).toHaveLength(1);
    expect(result.anomalies[0]).toMatchObject({ kind: "stale-context", turnId: "a-t2" });
    expect(result.anomalies[0]?.detail).toContain("turn 2 (a-t2) was answered from 1 message");
    expect(result.anomalies[0]?.detail).toContain("at position 2 (0-based)");
    expect(result.anomalies[0]?.detail).toContain("worker 0 (pid 100)");
    expect(result.reasons).toEqual([
      "1 acknowledged turn answered without messages stored before it (stale context under overlap)",
    ]);
  });

  it("flags both turns of an interleaved read (uA, uB, aA, aB), once across reads", () => {
    // B's agent saw A's question and its own (2): the history matches, only the pairing is broken.
    const tA = turn(0, 1_000, 1_100, 1);
    const tB = turn(1, 1_010, 1_120, 2);
    const result = checkRun(runOf([tA, tB], [u(tA), u(tB), a(tA), a(tB)]));

    expect(result.verdict).toBe("invalid");
    expect(counts(result)).toEqual({ ...NO_ANOMALIES, interleaved: 2 });
    expect(result.anomalies.map((x) => [x.kind, x.turnId])).toEqual([
      ["interleaved", "a-t1"],
      ["interleaved", "a-t2"],
    ]);
    expect(result.anomalies[0]?.detail).toContain(
      "turn 1 (a-t1)'s user message is not directly followed by its reply in the final read served by worker 0 (pid 100): 1 other message sits between them, starting with turn 2's user message",
    );
    expect(result.reasons).toEqual([
      "2 turns interleaved (a user message not directly followed by its own reply)",
    ]);
  });

  it("flags only the split turn when another turn is nested inside it", () => {
    const tA = turn(0, 1_000, 1_100, 1);
    const tB = turn(1, 1_010, 1_050, 2);
    const result = checkRun(runOf([tA, tB], [u(tA), u(tB), a(tB), a(tA)]));

    expect(counts(result)).toEqual({ ...NO_ANOMALIES, interleaved: 1 });
    expect(result.anomalies[0]?.turnId).toBe("a-t1");
    expect(result.anomalies[0]?.detail).toContain("2 other messages");
  });

  it("accepts a correct overlapping run whose server serialized the turns", () => {
    // B was sent before A was answered, but the server handled A first and B saw it.
    const tA = turn(0, 1_000, 1_100, 1);
    const tB = turn(1, 1_010, 1_200, 3);
    const tC = turn(2, 1_210, 1_300, 5);
    const result = checkRun(runOf([tA, tB, tC], [u(tA), a(tA), u(tB), a(tB), u(tC), a(tC)]));

    expect(result.verdict).toBe("valid");
    expect(result.reasons).toEqual([]);
    expect(counts(result)).toEqual(NO_ANOMALIES);
  });

  it("counts a retried turn stored twice as duplicated only", () => {
    // The first attempt was stored but its answer lost; the retry was stored again and saw it.
    const tA = turn(0, 1_000, 1_300, 3);
    const tB = turn(1, 1_310, 1_400, 5);
    const result = checkRun(runOf([tA, tB], [u(tA), a(tA), u(tA), a(tA), u(tB), a(tB)]));

    expect(result.verdict).toBe("invalid");
    expect(counts(result)).toEqual({ ...NO_ANOMALIES, duplicated: 1 });
    expect(result.anomalies[0]).toMatchObject({ kind: "duplicated", turnId: "a-t1" });
  });

  it("counts a reply stored before its question as out-of-order only", () => {
    const tA = turn(0, 1_000, 1_100, 1);
    const tB = turn(1, 1_200, 1_300, 3);
    const result = checkRun(runOf([tA, tB], [u(tA), a(tA), a(tB), u(tB)]));

    expect(counts(result)).toEqual({ ...NO_ANOMALIES, outOfOrder: 1 });
    expect(result.anomalies.map((x) => x.kind)).toEqual(["out-of-order"]);
  });

  it("does not call a turn whose reply is missing interleaved (it is lost)", () => {
    const tA = turn(0, 1_000, 1_100, 1);
    const tB = turn(1, 1_200, 1_300, 3);
    const result = checkRun(runOf([tA, tB], [u(tA), u(tB), a(tB)]));

    expect(counts(result)).toEqual({ ...NO_ANOMALIES, lost: 1 });
  });

  it("skips stale context for turns without messagesSeen or stored twice", () => {
    const tA = turn(0, 1_000, 1_100, undefined);
    const tB = turn(1, 1_010, 1_120, 1);
    // A follows B's messages but reported no messagesSeen; B's user message appears twice
    // (duplicated), so its position proves nothing.
    const result = checkRun(runOf([tA, tB], [u(tB), a(tB), u(tA), a(tA), u(tB)]));

    expect(counts(result)).toEqual({ ...NO_ANOMALIES, duplicated: 1 });
  });

  it("keeps stale and stale-context separate when a broken app shows both", () => {
    const turns = [turn(0, 1_000, 1_050, 1), turn(1, 1_100, 1_150, 1)];
    const [tA, tB] = turns as [TurnRecord, TurnRecord];
    const result = checkRun(runOf(turns, [u(tA), a(tA), u(tB), a(tB)]));

    expect(counts(result)).toEqual({ ...NO_ANOMALIES, stale: 1, staleContext: 1 });
    expect(result.anomalies.map((x) => x.kind)).toEqual(["stale", "stale-context"]);
    expect(result.reasons).toHaveLength(2);
  });

  it("maps the new kinds to totals fields", () => {
    const kinds: AnomalyKind[] = ["interleaved", "stale-context"];
    const result = checkRun(runOf([], []));
    for (const kind of kinds) expect(result.totals[COUNT_OF[kind]], kind).toBe(0);
    expect(COUNT_OF).toMatchObject({ interleaved: "interleaved", "stale-context": "staleContext" });
  });
});
