import { describe, expect, it } from "vitest";
import {
  contextOf,
  messageKey,
  splitByConversation,
} from "../../../lab/check/conversation-context.ts";
import type { FinalRead, TurnRecord } from "../../../lab/load/records.ts";
import { message, W0, W1 } from "./fixtures.ts";

function turn(conversationId: string, index: number, outcome: TurnRecord["outcome"] = "ok") {
  const record: TurnRecord = {
    conversationId,
    index,
    turnId: `${conversationId}-t${index + 1}`,
    text: `question ${index + 1}`,
    sentAt: 1_000 + index * 100,
    outcome,
    servedBy: W0,
  };
  return record;
}

function read(conversationId: string, messages: FinalRead["messages"], ok = true): FinalRead {
  return { conversationId, ok, servedBy: W1, messages };
}

describe("splitByConversation", () => {
  it("orders conversations by code unit, not locale, and keeps each one's records in order", () => {
    const [b1, b0, a0] = [turn("b", 1), turn("b", 0), turn("a", 0)];
    const split = splitByConversation({
      turns: [b1, b0, a0],
      reads: [read("C", []), read("b", [])],
      workersExpected: 2,
    });

    expect(split.map((c) => c.conversationId)).toEqual(["C", "a", "b"]);
    expect(split[0]).toMatchObject({ turns: [], reads: [{ conversationId: "C" }] });
    expect(split[2]?.turns).toEqual([b1, b0]);
  });
});

describe("contextOf", () => {
  it("sorts turns by script position and keeps only acknowledged turns and successful reads", () => {
    const [t0, t1, t2] = [turn("c", 0), turn("c", 1, "failed"), turn("c", 2)];
    const ctx = contextOf("c", [t2, t0, t1], [read("c", []), read("c", [], false)]);

    expect(ctx.turns).toEqual([t0, t1, t2]);
    expect(ctx.okTurns).toEqual([t0, t2]);
    expect(ctx.turnsById.get(t1.turnId)).toBe(t1);
    expect(ctx.okReads).toHaveLength(1);
    expect(ctx.okReads[0]?.worker).toBe("worker 1 (pid 101)");
  });

  it("indexes each message's first position and how often it occurs", () => {
    const t0 = turn("c", 0);
    const stored = [message(t0, "user"), message(t0, "assistant"), message(t0, "user")];
    const [view] = contextOf("c", [t0], [read("c", stored)]).okReads;

    expect(view?.firstAt.get(messageKey(t0.turnId, "user"))).toBe(0);
    expect(view?.firstAt.get(messageKey(t0.turnId, "assistant"))).toBe(1);
    expect(view?.occurrences.get(messageKey(t0.turnId, "user"))).toBe(2);
    expect(view?.occurrences.get(messageKey(t0.turnId, "assistant"))).toBe(1);
  });
});
