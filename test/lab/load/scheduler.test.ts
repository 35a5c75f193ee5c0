import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Planned, settledOutcome, TurnScheduler } from "../../../lab/load/scheduler.ts";
import { droppedTurns } from "../../../lab/load/stream-drops.ts";

const options = {
  conversations: 3,
  turnsPerConversation: 2,
  connections: 2,
  runId: "r",
  sticky: false,
  overlap: 1,
  retryRate: 0,
  seed: 1,
};

function turnOf(planned: Planned) {
  if (planned.kind !== "turn") throw new Error(`expected a turn, got ${planned.kind}`);
  return planned.record;
}

const ok = { outcome: "ok" as const, status: 200 };

describe("TurnScheduler", () => {
  // Backoffs run on fake timers: a test moves the clock instead of sleeping.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("never hands out a conversation's next turn before its previous one is answered", () => {
    const scheduler = new TurnScheduler({ ...options, conversations: 1 });
    const first = turnOf(scheduler.next(0));
    expect(scheduler.next(1)).toEqual({ kind: "idle" });
    scheduler.answered(first.turnId, ok);
    expect(turnOf(scheduler.next(1))).toMatchObject({ index: 1, conversationId: "r-c1" });
  });

  it("moves a conversation's turns across connections (FIFO of ready conversations)", () => {
    const scheduler = new TurnScheduler(options);
    const a = turnOf(scheduler.next(0));
    const b = turnOf(scheduler.next(1));
    scheduler.answered(a.turnId, ok);
    // Connection 0 is free again, but c3 has waited longest: it goes first.
    expect(turnOf(scheduler.next(0)).conversationId).toBe("r-c3");
    // c1's second turn goes to whichever connection frees next: here connection 1.
    scheduler.answered(b.turnId, ok);
    expect(turnOf(scheduler.next(1))).toMatchObject({ conversationId: "r-c1", index: 1 });
  });

  it("hands a conversation to a connection on a different worker than its last turn's", () => {
    const scheduler = new TurnScheduler({ ...options, conversations: 2, turnsPerConversation: 3 });
    const served = (pid: number) => ({ ...ok, servedBy: { workerId: pid, pid, hostname: "h" } });
    const a = turnOf(scheduler.next(0));
    const b = turnOf(scheduler.next(1));
    scheduler.answered(a.turnId, served(1)); // c1 on worker 1
    scheduler.answered(b.turnId, served(2)); // c2 on worker 2
    // A connection to worker 1 skips c1 (oldest, but last served by worker 1) and takes c2.
    expect(turnOf(scheduler.next(0, "h:1")).conversationId).toBe("r-c2");
    // A connection to worker 2 takes c1.
    expect(turnOf(scheduler.next(1, "h:2")).conversationId).toBe("r-c1");
  });

  it("still finishes when no other worker ever frees up (starving conversations go anywhere)", () => {
    const scheduler = new TurnScheduler({ ...options, conversations: 1, turnsPerConversation: 2 });
    const first = turnOf(scheduler.next(0));
    scheduler.answered(first.turnId, { ...ok, servedBy: { workerId: 1, pid: 1, hostname: "h" } });
    let planned: Planned = { kind: "idle" };
    let asks = 0;
    while (planned.kind === "idle" && asks < 1000) {
      planned = scheduler.next(0, "h:1");
      asks++;
    }
    expect(turnOf(planned).index).toBe(1);
    expect(asks).toBeGreaterThan(1);
  });

  it("never breaks the hop while a connection to another worker is alive, however long it is busy", () => {
    const scheduler = new TurnScheduler({ ...options, conversations: 2, turnsPerConversation: 2 });
    const served = (pid: number) => ({ ...ok, servedBy: { workerId: pid, pid, hostname: "h" } });
    const a = turnOf(scheduler.next(0, "h:1"));
    const b = turnOf(scheduler.next(1, "h:2"));
    scheduler.answered(a.turnId, served(1)); // c1 on worker 1; connection 1 stays busy with c2
    // Connection 0 (worker 1) asks far more often than the starvation limit while c2 runs:
    // c1 waits for a connection to another worker instead of going back to worker 1.
    for (let i = 0; i < 100; i++) expect(scheduler.next(0, "h:1")).toEqual({ kind: "idle" });
    scheduler.answered(b.turnId, served(2));
    expect(turnOf(scheduler.next(1, "h:2"))).toMatchObject({ conversationId: "r-c1", index: 1 });
  });

  it("does not send a conversation back to its worker while another connection has not answered yet", () => {
    const scheduler = new TurnScheduler({ ...options, conversations: 1, turnsPerConversation: 2 });
    const served = (pid: number) => ({ ...ok, servedBy: { workerId: pid, pid, hostname: "h" } });
    // Connection 1 has asked but not been answered: its worker is unknown, maybe another one.
    const first = turnOf(scheduler.next(0, "h:1"));
    expect(scheduler.next(1)).toEqual({ kind: "idle" });
    scheduler.answered(first.turnId, served(1));
    // Connection 2 talks to worker 1 too: only one worker has answered so far, yet it waits.
    for (let i = 0; i < 100; i++) expect(scheduler.next(2, "h:1")).toEqual({ kind: "idle" });
    expect(turnOf(scheduler.next(1, "h:2"))).toMatchObject({ index: 1 });
  });

  it("against a single worker, hops connections at once (every connection known on that worker)", () => {
    const scheduler = new TurnScheduler({ ...options, conversations: 1, turnsPerConversation: 2 });
    const served = { ...ok, servedBy: { workerId: 1, pid: 1, hostname: "h" } };
    const first = turnOf(scheduler.next(0, "h:1"));
    expect(scheduler.next(1, "h:1")).toEqual({ kind: "idle" });
    scheduler.answered(first.turnId, served);
    expect(turnOf(scheduler.next(1, "h:1"))).toMatchObject({ index: 1 });
  });

  it("lets a starving conversation go anywhere once the other workers' connections are closed", () => {
    const scheduler = new TurnScheduler({ ...options, conversations: 2, turnsPerConversation: 2 });
    const served = (pid: number) => ({ ...ok, servedBy: { workerId: pid, pid, hostname: "h" } });
    const a = turnOf(scheduler.next(0, "h:1"));
    const b = turnOf(scheduler.next(1, "h:2"));
    scheduler.answered(b.turnId, served(2));
    expect(turnOf(scheduler.next(0, "h:1"))).toMatchObject({ conversationId: "r-c2", index: 1 });
    scheduler.answered(a.turnId, served(1)); // c1 on worker 1
    scheduler.retired(1); // the only connection to worker 2 is closed for good
    let planned: Planned = { kind: "idle" };
    let asks = 0;
    for (; asks < 100 && planned.kind === "idle"; asks++) planned = scheduler.next(0, "h:1");
    expect(turnOf(planned)).toMatchObject({ conversationId: "r-c1", index: 1 });
    expect(asks).toBeGreaterThan(1);
  });

  it("is done only when every turn is answered", () => {
    const scheduler = new TurnScheduler({ ...options, conversations: 1, turnsPerConversation: 1 });
    const only = turnOf(scheduler.next(0));
    expect(scheduler.done()).toBe(false);
    scheduler.answered(only.turnId, ok);
    expect(scheduler.done()).toBe(true);
  });

  it("abandons a conversation after a turn with an unknown outcome", () => {
    const scheduler = new TurnScheduler({ ...options, conversations: 1 });
    scheduler.lost(turnOf(scheduler.next(0)).turnId);
    expect(scheduler.next(0)).toEqual({ kind: "idle" });
    expect(scheduler.done()).toBe(true);
    expect(scheduler.records[0]?.outcome).toBe("unknown");
  });

  it("in sticky mode keeps each conversation on its connection and ends with a read there", () => {
    const scheduler = new TurnScheduler({
      ...options,
      sticky: true,
      conversations: 2,
      turnsPerConversation: 1,
    });
    const onZero = turnOf(scheduler.next(0));
    expect(onZero.conversationId).toBe("r-c1");
    expect(turnOf(scheduler.next(1)).conversationId).toBe("r-c2");
    scheduler.answered(onZero.turnId, ok);
    expect(scheduler.next(0)).toEqual({ kind: "read", conversationId: "r-c1" });
    expect(scheduler.hasWorkFor(0)).toBe(true);
    scheduler.readFinished("r-c1");
    expect(scheduler.hasWorkFor(0)).toBe(false);
  });

  it("with overlap K, sends up to K turns of one conversation at once, no more", () => {
    const scheduler = new TurnScheduler({
      ...options,
      conversations: 1,
      turnsPerConversation: 4,
      overlap: 2,
    });
    const a = turnOf(scheduler.next(0));
    const b = turnOf(scheduler.next(1));
    expect([a.index, b.index]).toEqual([0, 1]);
    expect(scheduler.next(2)).toEqual({ kind: "idle" });
    scheduler.answered(a.turnId, ok);
    expect(turnOf(scheduler.next(0)).index).toBe(2);
  });

  it("re-sends a retried turn with the same turnId and settles it from all its attempts", () => {
    const scheduler = new TurnScheduler({
      ...options,
      conversations: 1,
      turnsPerConversation: 1,
      retryRate: 1,
    });
    const first = scheduler.next(0);
    if (first.kind !== "turn") throw new Error("expected a turn");
    let retry = scheduler.next(1);
    if (retry.kind === "idle") {
      // This seed retries after the answer: answer the first attempt, then the retry comes.
      scheduler.answered(first.record.turnId, { outcome: "conflict", status: 409 });
      retry = scheduler.next(1);
    } else {
      scheduler.answered(first.record.turnId, { outcome: "conflict", status: 409 });
    }
    if (retry.kind !== "turn") throw new Error("expected the retry");
    expect(retry.record.turnId).toBe(first.record.turnId);
    expect(retry.attempt).toBe(1);
    expect(scheduler.done()).toBe(false);
    scheduler.answered(retry.record.turnId, { ...ok, messagesSeen: 1 });
    expect(scheduler.done()).toBe(true);
    expect(scheduler.records).toHaveLength(1);
    expect(scheduler.records[0]).toMatchObject({ outcome: "ok", attempts: 2, messagesSeen: 1 });
  });

  it("settles a turn Jepsen style from its attempts", () => {
    expect(settledOutcome(["conflict", "ok"])).toBe("ok");
    expect(settledOutcome(["failed", "ok"])).toBe("ok");
    expect(settledOutcome(["failed", "failed"])).toBe("failed");
    expect(settledOutcome(["failed", "unknown"])).toBe("unknown");
    expect(settledOutcome(["conflict"])).toBe("unknown");
  });

  it("resends a definite refusal (503) with the same turnId after the backoff, and settles it ok", () => {
    const scheduler = new TurnScheduler({
      ...options,
      conversations: 1,
      resendRefused: { backoffMs: 20, maxAttempts: 3 },
    });
    const first = turnOf(scheduler.next(0));
    scheduler.answered(first.turnId, { outcome: "failed", status: 503 });
    // Not at once: the client backs off, and the conversation waits for its turn.
    expect(scheduler.next(0)).toEqual({ kind: "idle" });
    expect(scheduler.done()).toBe(false);
    vi.advanceTimersByTime(19);
    expect(scheduler.next(0)).toEqual({ kind: "idle" });
    vi.advanceTimersByTime(1);
    const again = scheduler.next(0);
    expect(again).toMatchObject({ kind: "turn", attempt: 1 });
    expect(turnOf(again).turnId).toBe(first.turnId);
    scheduler.answered(first.turnId, ok);
    expect(scheduler.records[0]).toMatchObject({ outcome: "ok", attempts: 2 });
    // And the conversation goes on (on another connection: turns hop).
    expect(turnOf(scheduler.next(1)).index).toBe(1);
  });

  it("resends a write the store could not confirm (503 store_write_uncertain): its turnId settles it", () => {
    const scheduler = new TurnScheduler({
      ...options,
      conversations: 1,
      resendRefused: { backoffMs: 1, maxAttempts: 3 },
    });
    const first = turnOf(scheduler.next(0));
    scheduler.answered(first.turnId, {
      outcome: "unknown",
      status: 503,
      code: "store_write_uncertain",
    });
    vi.advanceTimersByTime(1);
    const again = scheduler.next(0);
    expect(turnOf(again).turnId).toBe(first.turnId);
    scheduler.answered(first.turnId, ok);
    // Acknowledged by the resend (answered from the store, or run then): not abandoned.
    expect(scheduler.records[0]).toMatchObject({ outcome: "ok", attempts: 2 });
    // The conversation goes on, on another connection (turns hop).
    const second = turnOf(scheduler.next(1));
    expect(second.index).toBe(1);
    // Any other uncertain answer (a 502 model error, a dropped connection) is not resent.
    scheduler.answered(second.turnId, { outcome: "unknown", status: 502 });
    vi.advanceTimersByTime(1);
    expect(scheduler.records[1]).toMatchObject({ outcome: "unknown", attempts: 1 });
  });

  it("resends a turn whose stream ended turn_interrupted (a 200: the error event says nothing was stored)", () => {
    const scheduler = new TurnScheduler({
      ...options,
      conversations: 1,
      resendRefused: { backoffMs: 5, maxAttempts: 3 },
    });
    const first = turnOf(scheduler.next(0));
    // The stream opened (200), its worker died, the resume ended with the error event.
    scheduler.answered(first.turnId, { outcome: "failed", status: 200, code: "turn_interrupted" });
    expect(scheduler.next(0)).toEqual({ kind: "idle" });
    expect(scheduler.done()).toBe(false);
    vi.advanceTimersByTime(5);
    const again = scheduler.next(0);
    expect(again).toMatchObject({ kind: "turn", attempt: 1 });
    expect(turnOf(again).turnId).toBe(first.turnId);
    scheduler.answered(first.turnId, ok);
    expect(scheduler.records[0]).toMatchObject({ outcome: "ok", attempts: 2 });
    // Not abandoned: the conversation goes on, on another connection (turns hop).
    expect(turnOf(scheduler.next(1)).index).toBe(1);
  });

  it("does not resend a stream that ended uncertain, nor any turn without resendRefused", () => {
    const resending = new TurnScheduler({
      ...options,
      conversations: 1,
      resendRefused: { backoffMs: 1, maxAttempts: 3 },
    });
    const a = turnOf(resending.next(0));
    // store_unavailable in a stream: it may have been stored before the read failed.
    resending.answered(a.turnId, { outcome: "unknown", status: 200, code: "store_unavailable" });
    vi.advanceTimersByTime(1);
    expect(resending.records[0]).toMatchObject({ outcome: "unknown", attempts: 1 });
    expect(resending.done()).toBe(true);

    const plain = new TurnScheduler({ ...options, conversations: 1 });
    const b = turnOf(plain.next(0));
    plain.answered(b.turnId, { outcome: "failed", status: 200, code: "turn_interrupted" });
    vi.advanceTimersByTime(1);
    expect(plain.records[0]).toMatchObject({ outcome: "failed", attempts: 1 });
  });

  it("stops resending after maxAttempts and never resends a 4xx other than 409", () => {
    const resendRefused = { backoffMs: 1, maxAttempts: 2 };
    const scheduler = new TurnScheduler({ ...options, conversations: 2, resendRefused });
    const a = turnOf(scheduler.next(0));
    const b = turnOf(scheduler.next(1));
    scheduler.answered(b.turnId, { outcome: "failed", status: 400 });
    expect(scheduler.records[1]?.outcome).toBe("failed");
    scheduler.answered(a.turnId, { outcome: "failed", status: 503 });
    vi.advanceTimersByTime(1);
    const retry = scheduler.next(0);
    expect(retry).toMatchObject({ kind: "turn", attempt: 1 });
    scheduler.answered(a.turnId, { outcome: "failed", status: 503 });
    vi.advanceTimersByTime(1);
    expect(scheduler.records[0]).toMatchObject({ outcome: "failed", attempts: 2 });
  });

  it("in sticky mode still reads an abandoned conversation, and reads again after a 503", () => {
    const scheduler = new TurnScheduler({
      ...options,
      sticky: true,
      conversations: 1,
      turnsPerConversation: 3,
      resendRefused: { backoffMs: 1, maxAttempts: 3 },
    });
    scheduler.answered(turnOf(scheduler.next(0)).turnId, ok);
    scheduler.lost(turnOf(scheduler.next(0)).turnId);
    // No third turn after an unknown one, but its acknowledged turn must still be checked.
    expect(scheduler.next(0)).toEqual({ kind: "read", conversationId: "r-c1" });
    scheduler.readFinished("r-c1", 503);
    expect(scheduler.done()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(scheduler.next(0)).toEqual({ kind: "read", conversationId: "r-c1" });
    scheduler.readFinished("r-c1", 200);
    expect(scheduler.done()).toBe(true);
  });

  it("in sticky mode moves a connection's conversations forward together", () => {
    const scheduler = new TurnScheduler({
      ...options,
      sticky: true,
      connections: 1,
      conversations: 2,
      turnsPerConversation: 3,
    });
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      const turn = turnOf(scheduler.next(0));
      order.push(`${turn.conversationId}#${turn.index}`);
      scheduler.answered(turn.turnId, ok);
    }
    expect(order).toEqual(["r-c1#0", "r-c2#0", "r-c1#1", "r-c2#1"]);
  });

  it("drops exactly round(rate x S x T) streamed turns, the same ones for the same seed", () => {
    const plan = (seed: number) => {
      const scheduler = new TurnScheduler({
        ...options,
        conversations: 5,
        turnsPerConversation: 3,
        seed,
        disconnect: { rate: 0.4, afterDeltas: 2 },
      });
      const dropped: string[] = [];
      for (let slot = 0; !scheduler.done(); slot = 1 - slot) {
        const planned = scheduler.next(slot);
        if (planned.kind !== "turn") continue;
        if (planned.dropAfter !== undefined) dropped.push(planned.record.text.slice(0, 7));
        expect([undefined, 2]).toContain(planned.dropAfter);
        scheduler.answered(planned.record.turnId, ok);
      }
      return dropped.sort();
    };
    expect(plan(1)).toHaveLength(6);
    expect(plan(1)).toEqual(plan(1));
    expect(plan(2)).toHaveLength(6);
    expect(plan(2)).not.toEqual(plan(1));
    expect(droppedTurns(9, 12, 6, 0.5).size).toBe(36);
    expect(droppedTurns(9, 12, 6, 1).size).toBe(72);
    expect(droppedTurns(9, 12, 6, 0).size).toBe(0);
  });

  it("never drops a retry: only a turn's first attempt", () => {
    const scheduler = new TurnScheduler({
      ...options,
      conversations: 1,
      turnsPerConversation: 1,
      retryRate: 1,
      disconnect: { rate: 1, afterDeltas: 3 },
    });
    const first = scheduler.next(0);
    expect(first).toMatchObject({ kind: "turn", attempt: 0, dropAfter: 3 });
    scheduler.answered(turnOf(first).turnId, ok);
    const retry = scheduler.next(1);
    expect(retry).toMatchObject({ kind: "turn", attempt: 1 });
    expect(retry.kind === "turn" && retry.dropAfter).toBeUndefined();
  });

  it("goes on after an unknown turn a read showed stored, hopping away from its worker", () => {
    const scheduler = new TurnScheduler({ ...options, conversations: 1, turnsPerConversation: 2 });
    const first = turnOf(scheduler.next(0, "h:1"));
    expect(scheduler.next(1, "h:2")).toEqual({ kind: "idle" });
    scheduler.answered(first.turnId, {
      outcome: "unknown",
      status: 200,
      storedAfterBreak: { worker: "h:1" },
    });
    expect(scheduler.records[0]?.outcome).toBe("unknown");
    // Its next turn waits for a connection to another worker than the one that stored it.
    expect(scheduler.next(0, "h:1")).toEqual({ kind: "idle" });
    expect(turnOf(scheduler.next(1, "h:2")).index).toBe(1);
  });
});
