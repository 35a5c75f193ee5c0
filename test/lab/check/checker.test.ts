import { describe, expect, it } from "vitest";
import { checkRun } from "../../../lab/check/checker.ts";
import type { FinalRead, RunRecord, TurnRecord } from "../../../lab/load/records.ts";
import type { ChatMessage, ServedBy } from "../../../service/contract.ts";
import { counts, message, NO_ANOMALIES, W0, W1 } from "./fixtures.ts";

interface Conversation {
  turns: TurnRecord[];
  reads: FinalRead[];
}

/**
 * A well-behaved conversation: `count` turns sent one after the other (each sent after the
 * previous one was answered), served round-robin by `servers`, with one complete final read
 * per reader.
 */
function conversation(
  id: string,
  count: number,
  servers: ServedBy[] = [W0, W1],
  readers: ServedBy[] = [W0, W1],
): Conversation {
  const turns = Array.from({ length: count }, (_, index) =>
    turn(id, index, { servedBy: servers[index % servers.length] }),
  );
  return { turns, reads: readers.map((reader) => read(id, reader, messagesOf(turns))) };
}

function turn(conversationId: string, index: number, overrides: Partial<TurnRecord> = {}) {
  const sentAt = 1_000 + index * 100;
  const record: TurnRecord = {
    conversationId,
    index,
    turnId: `${conversationId}-t${index + 1}`,
    text: `question ${index + 1}`,
    sentAt,
    answeredAt: sentAt + 50,
    outcome: "ok",
    status: 200,
    servedBy: W0,
    messagesSeen: 2 * index + 1,
  };
  return { ...record, ...overrides };
}

/** The stored history the given turns should produce, in order. */
function messagesOf(turns: TurnRecord[]): ChatMessage[] {
  return turns.flatMap((record) => [message(record, "user"), message(record, "assistant")]);
}

function read(conversationId: string, servedBy: ServedBy, messages: ChatMessage[]): FinalRead {
  return { conversationId, ok: true, status: 200, servedBy, messages };
}

function runOf(parts: Conversation[], workersExpected = 2): RunRecord {
  return {
    turns: parts.flatMap((part) => part.turns),
    reads: parts.flatMap((part) => part.reads),
    workersExpected,
  };
}

/** Removes every message of a turn from a read. */
function without(messages: ChatMessage[], turnId: string): ChatMessage[] {
  return messages.filter((m) => m.turnId !== turnId);
}

describe("checkRun", () => {
  describe("valid runs", () => {
    it("accepts complete, consistent histories read from two workers", () => {
      const result = checkRun(runOf([conversation("b", 3), conversation("a", 4)]));

      expect(result.verdict).toBe("valid");
      expect(result.reasons).toEqual([]);
      expect(counts(result)).toEqual(NO_ANOMALIES);
      expect(result.anomalies).toEqual([]);
      expect(result.conversations.map((c) => c.conversationId)).toEqual(["a", "b"]);
      expect(result.totals).toMatchObject({
        conversations: 2,
        conversationsAffected: 0,
        turnsSent: 7,
        acknowledged: 7,
        failed: 0,
        unknownOutcome: 0,
        workersServingTurns: 2,
        meanWorkersPerConversation: 2,
        finalReads: 4,
        finalReadsOk: 4,
      });
      expect(result.conversations[0]).toMatchObject({ distinctWorkers: 2, finalReadsOk: 2 });
    });

    it("accepts a single-worker app with one worker serving everything", () => {
      const result = checkRun(runOf([conversation("a", 3, [W0], [W0, W0])], 1));

      expect(result.verdict).toBe("valid");
      expect(counts(result)).toEqual(NO_ANOMALIES);
      expect(result.totals.workersServingTurns).toBe(1);
    });

    it("does not count unknown-outcome or failed turns that left no trace as lost", () => {
      const base = conversation("a", 4);
      const turns = base.turns.map((t) => {
        if (t.index === 1) return { ...t, outcome: "unknown" as const, answeredAt: undefined };
        if (t.index === 2) return { ...t, outcome: "failed" as const, status: 503 };
        return t;
      });
      const kept = turns.filter((t) => t.outcome === "ok");
      const reads = [read("a", W0, messagesOf(kept)), read("a", W1, messagesOf(kept))];
      const result = checkRun(runOf([{ turns, reads }]));

      expect(result.verdict).toBe("valid");
      expect(counts(result)).toEqual(NO_ANOMALIES);
      expect(result.totals).toMatchObject({ acknowledged: 2, failed: 1, unknownOutcome: 1 });
    });

    it("accepts an unknown-outcome turn that was stored after all", () => {
      const base = conversation("a", 4);
      const turns = base.turns.map((t) =>
        t.index === 1 ? { ...t, outcome: "unknown" as const, answeredAt: undefined } : t,
      );
      const result = checkRun(runOf([{ turns, reads: base.reads }]));

      expect(result.verdict).toBe("valid");
      expect(counts(result)).toEqual(NO_ANOMALIES);
    });

    it("ignores failed final reads when another read succeeded", () => {
      const base = conversation("a", 3);
      const failedRead: FinalRead = { conversationId: "a", ok: false, status: 503, messages: [] };
      const result = checkRun(runOf([{ turns: base.turns, reads: [...base.reads, failedRead] }]));

      expect(result.verdict).toBe("valid");
      expect(result.totals).toMatchObject({ finalReads: 3, finalReadsOk: 2 });
    });
  });

  describe("lost", () => {
    it("flags an acknowledged turn missing from one worker's read", () => {
      const base = conversation("a", 4);
      const lostTurn = base.turns[2] as TurnRecord;
      const reads = [
        base.reads[0] as FinalRead,
        read("a", W1, without(messagesOf(base.turns), lostTurn.turnId)),
      ];
      const result = checkRun(runOf([{ turns: base.turns, reads }, conversation("b", 2)]));

      expect(result.verdict).toBe("invalid");
      expect(counts(result)).toEqual({ ...NO_ANOMALIES, lost: 1, divergent: 1 });
      expect(result.totals.conversationsAffected).toBe(1);
      expect(result.reasons).toContain("1 acknowledged turn lost (missing from a final read)");

      const lost = result.anomalies.find((a) => a.kind === "lost");
      expect(lost?.turnId).toBe(lostTurn.turnId);
      expect(lost?.detail).toContain("turn 3");
      expect(lost?.detail).toContain("1 of 2");
      expect(lost?.detail).toContain("worker 1 (pid 101)");
    });

    it("counts a turn missing from every read once, without divergence", () => {
      const base = conversation("a", 4);
      const kept = without(messagesOf(base.turns), "a-t2");
      const reads = [read("a", W0, kept), read("a", W1, [...kept])];
      const result = checkRun(runOf([{ turns: base.turns, reads }]));

      expect(result.verdict).toBe("invalid");
      expect(counts(result)).toEqual({ ...NO_ANOMALIES, lost: 1 });
      expect(result.anomalies[0]?.detail).toContain("2 of 2");
    });

    it("flags a turn whose assistant message alone is missing", () => {
      const base = conversation("a", 3);
      const kept = messagesOf(base.turns).filter(
        (m) => !(m.turnId === "a-t1" && m.role === "assistant"),
      );
      const result = checkRun(
        runOf([{ turns: base.turns, reads: [read("a", W0, kept), read("a", W1, [...kept])] }]),
      );

      expect(counts(result)).toEqual({ ...NO_ANOMALIES, lost: 1 });
      expect(result.anomalies[0]?.detail).toContain("assistant message is missing");
    });
  });

  describe("stale", () => {
    it("flags a turn answered from less history than was acknowledged", () => {
      const base = conversation("a", 4);
      const turns = base.turns.map((t) => (t.index === 2 ? { ...t, messagesSeen: 1 } : t));
      const result = checkRun(runOf([{ turns, reads: base.reads }]));

      expect(result.verdict).toBe("invalid");
      // Stored after turns 1 and 2 without having seen them: also stale-context.
      expect(counts(result)).toEqual({ ...NO_ANOMALIES, stale: 1, staleContext: 1 });
      expect(result.anomalies[0]?.turnId).toBe("a-t3");
      expect(result.anomalies[0]?.detail).toContain(
        "turn 3 was answered from 1 message but 4 were acknowledged before it was sent",
      );
    });

    it("does not expect a turn to see one still in flight when it was sent", () => {
      const base = conversation("a", 2);
      // Turn 2 was sent before turn 1 was answered, so it may legitimately miss it.
      const turns = base.turns.map((t) =>
        t.index === 1 ? { ...t, sentAt: 1_010, answeredAt: 1_200, messagesSeen: 1 } : t,
      );
      const result = checkRun(runOf([{ turns, reads: base.reads }]));

      expect(counts(result)).toEqual({ ...NO_ANOMALIES, staleContext: 1 });
      // Not stale; but turn 2 is stored after turn 1 without having seen it, which the
      // final-order check (stale-context) reports on its own.
      expect(result.anomalies.map((a) => a.kind)).toEqual(["stale-context"]);
      expect(result.verdict).toBe("invalid");
    });

    it("skips turns without messagesSeen", () => {
      const base = conversation("a", 3);
      const turns = base.turns.map((t) => ({ ...t, messagesSeen: undefined }));
      const result = checkRun(runOf([{ turns, reads: base.reads }]));

      expect(result.verdict).toBe("valid");
    });
  });

  describe("duplicated", () => {
    it("flags a message stored twice, once per turn", () => {
      const base = conversation("a", 3);
      const messages = messagesOf(base.turns);
      const duplicate = messages[3] as ChatMessage; // turn 2's assistant message
      const withDuplicate = [...messages.slice(0, 4), duplicate, ...messages.slice(4)];
      const reads = [read("a", W0, withDuplicate), read("a", W1, [...withDuplicate])];
      const result = checkRun(runOf([{ turns: base.turns, reads }]));

      expect(result.verdict).toBe("invalid");
      expect(counts(result)).toEqual({ ...NO_ANOMALIES, duplicated: 1 });
      expect(result.anomalies[0]?.turnId).toBe("a-t2");
      expect(result.anomalies[0]?.detail).toContain("appears 2 times");
    });
  });

  describe("out-of-order", () => {
    it("flags a turn stored before one acknowledged before it was sent", () => {
      const base = conversation("a", 4);
      const [t1, t2, t3, t4] = base.turns as [TurnRecord, TurnRecord, TurnRecord, TurnRecord];
      const swapped = messagesOf([t1, t3, t2, t4]);
      const reads = [read("a", W0, swapped), read("a", W1, [...swapped])];
      const result = checkRun(runOf([{ turns: base.turns, reads }]));

      expect(result.verdict).toBe("invalid");
      // Turn 2, now stored after turn 3 without having seen it, is also stale-context.
      expect(counts(result)).toEqual({ ...NO_ANOMALIES, outOfOrder: 1, staleContext: 1 });
      expect(result.anomalies[0]?.turnId).toBe("a-t3");
      expect(result.anomalies[0]?.detail).toContain("stored before turn 2");
    });

    it("flags a reply stored before its question", () => {
      const base = conversation("a", 2);
      const [t1, t2] = base.turns as [TurnRecord, TurnRecord];
      const messages = [
        message(t1, "user"),
        message(t1, "assistant"),
        message(t2, "assistant"),
        message(t2, "user"),
      ];
      const reads = [read("a", W0, messages), read("a", W1, [...messages])];
      const result = checkRun(runOf([{ turns: base.turns, reads }]));

      expect(result.verdict).toBe("invalid");
      expect(counts(result)).toEqual({ ...NO_ANOMALIES, outOfOrder: 1 });
      expect(result.anomalies[0]?.turnId).toBe("a-t2");
    });

    it("allows concurrent turns to be stored in either order", () => {
      const base = conversation("a", 2);
      // Turn 2 was sent before turn 1 was answered: no order between them is promised.
      // The server handled turn 2 first, so turn 1 saw it (3 messages, counting its own).
      const turns = base.turns.map((t) => {
        if (t.index === 1) return { ...t, sentAt: 1_010, answeredAt: 1_200, messagesSeen: 1 };
        return { ...t, messagesSeen: 3 };
      });
      const [t1, t2] = turns as [TurnRecord, TurnRecord];
      const messages = messagesOf([t2, t1]);
      const result = checkRun(
        runOf([{ turns, reads: [read("a", W0, messages), read("a", W1, [...messages])] }]),
      );

      expect(result.verdict).toBe("valid");
      expect(counts(result)).toEqual(NO_ANOMALIES);
    });
  });

  describe("unexpected", () => {
    it("flags a message whose turnId no client sent, once across reads", () => {
      const base = conversation("a", 2);
      const ghost = message(turn("a", 9, { turnId: "ghost" }), "user");
      const messages = [...messagesOf(base.turns), ghost];
      const reads = [read("a", W0, messages), read("a", W1, [...messages])];
      const result = checkRun(runOf([{ turns: base.turns, reads }]));

      expect(result.verdict).toBe("invalid");
      expect(counts(result)).toEqual({ ...NO_ANOMALIES, unexpected: 1 });
      expect(result.anomalies[0]).toMatchObject({ kind: "unexpected", turnId: "ghost" });
      expect(result.reasons[0]).toMatch(/^1 unexpected message/);
    });

    it("flags the messages of a rejected turn", () => {
      const base = conversation("a", 3);
      const turns = base.turns.map((t) =>
        t.index === 1 ? { ...t, outcome: "failed" as const, status: 503 } : t,
      );
      // The store kept the rejected turn anyway.
      const result = checkRun(runOf([{ turns, reads: base.reads }]));

      expect(result.verdict).toBe("invalid");
      expect(counts(result)).toEqual({ ...NO_ANOMALIES, unexpected: 2 });
      expect(result.anomalies.map((a) => a.turnId)).toEqual(["a-t2", "a-t2"]);
      expect(result.anomalies[0]?.detail).toContain("rejected (status 503)");
    });

    it("flags a user message whose text was altered", () => {
      const base = conversation("a", 2);
      const messages = messagesOf(base.turns).map((m) =>
        m.turnId === "a-t1" && m.role === "user" ? { ...m, content: "something else" } : m,
      );
      const reads = [read("a", W0, messages), read("a", W1, [...messages])];
      const result = checkRun(runOf([{ turns: base.turns, reads }]));

      expect(counts(result)).toEqual({ ...NO_ANOMALIES, unexpected: 1 });
      expect(result.anomalies[0]?.detail).toContain("differs from the text the client sent");
    });
  });

  describe("divergent", () => {
    it("flags reads that disagree on an unknown-outcome turn, without losing anything", () => {
      const base = conversation("a", 3);
      const turns = base.turns.map((t) =>
        t.index === 2 ? { ...t, outcome: "unknown" as const, answeredAt: undefined } : t,
      );
      const reads = [
        read("a", W0, messagesOf(turns)),
        read("a", W1, without(messagesOf(turns), "a-t3")),
      ];
      const result = checkRun(runOf([{ turns, reads }]));

      expect(result.verdict).toBe("invalid");
      expect(counts(result)).toEqual({ ...NO_ANOMALIES, divergent: 1 });
      const [divergent] = result.anomalies;
      expect(divergent?.kind).toBe("divergent");
      expect(divergent?.detail).toContain("worker 0 (pid 100) returned 6 messages");
      expect(divergent?.detail).toContain("worker 1 (pid 101) returned 4 messages");
      expect(result.reasons).toEqual(["1 conversation whose successful final reads disagree"]);
    });
  });

  describe("inconclusive runs", () => {
    it("is unknown when turns never crossed workers", () => {
      const result = checkRun(runOf([conversation("a", 3, [W0]), conversation("b", 3, [W0])], 4));

      expect(result.verdict).toBe("unknown");
      expect(counts(result)).toEqual(NO_ANOMALIES);
      expect(result.totals.workersServingTurns).toBe(1);
      expect(result.reasons).toHaveLength(1);
      expect(result.reasons[0]).toMatch(/workers/);
    });

    it("is unknown when there are no final reads", () => {
      const base = conversation("a", 3);
      const result = checkRun(runOf([{ turns: base.turns, reads: [] }]));

      expect(result.verdict).toBe("unknown");
      expect(counts(result)).toEqual(NO_ANOMALIES);
      expect(result.reasons).toEqual(["no final read succeeded, so no history could be checked"]);
    });

    it("is unknown when no turn was acknowledged", () => {
      const base = conversation("a", 3);
      const turns = base.turns.map((t) => ({ ...t, outcome: "failed" as const, status: 503 }));
      const reads = [read("a", W0, []), read("a", W1, [])];
      const result = checkRun(runOf([{ turns, reads }]));

      expect(result.verdict).toBe("unknown");
      expect(counts(result)).toEqual(NO_ANOMALIES);
      expect(result.totals.meanWorkersPerConversation).toBe(0);
      expect(result.reasons).toHaveLength(1);
      expect(result.reasons[0]).toMatch(/acknowledged/);
    });

    it("is unknown when a conversation with acknowledged turns could not be read", () => {
      const unread = conversation("b", 2);
      const failedRead: FinalRead = { conversationId: "b", ok: false, status: 503, messages: [] };
      const result = checkRun(
        runOf([conversation("a", 3), { turns: unread.turns, reads: [failedRead] }]),
      );

      expect(result.verdict).toBe("unknown");
      expect(counts(result)).toEqual(NO_ANOMALIES);
      expect(result.reasons).toEqual([
        "1 conversation with acknowledged turns had no successful final read, so their turns could not be checked",
      ]);
    });

    it("reports anomalies as invalid even when the run is otherwise inconclusive", () => {
      const base = conversation("a", 3, [W0]);
      const reads = [
        base.reads[0] as FinalRead,
        read("a", W1, without(messagesOf(base.turns), "a-t1")),
      ];
      const result = checkRun(runOf([{ turns: base.turns, reads }], 4));

      expect(result.verdict).toBe("invalid");
      expect(counts(result)).toEqual({ ...NO_ANOMALIES, lost: 1, divergent: 1 });
    });
  });

  it("rounds the mean workers per conversation to two decimals", () => {
    const result = checkRun(
      runOf([conversation("a", 3), conversation("b", 3, [W0]), conversation("c", 3, [W0])]),
    );

    expect(result.verdict).toBe("valid");
    expect(result.totals.meanWorkersPerConversation).toBe(1.33);
  });
});
