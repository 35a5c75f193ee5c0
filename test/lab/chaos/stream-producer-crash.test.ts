import { describe, expect, it } from "vitest";
import { type ChaosCase, runChaosCase } from "../../../lab/chaos/run-case.ts";
import type { TurnRecord, TurnStream } from "../../../lab/load/records.ts";
import { TEST_CHAOS_OPTIONS } from "../../helpers/chaos-options.ts";

// Every reply streams for half a second or more here: fewer turns keep the run short.
const options = { ...TEST_CHAOS_OPTIONS, turns: 5 };

/** Each turn whose stream the killed worker was producing when it died, with that stream. */
function cutStreams(run: ChaosCase): { turn: TurnRecord; stream: TurnStream }[] {
  const victim = run.event?.victimPid;
  return (run.load?.turns ?? []).flatMap((turn) =>
    (turn.streams ?? [])
      .filter((stream) => stream.producer?.pid === victim && stream.cut !== undefined)
      .map((stream) => ({ turn, stream })),
  );
}

/** The roles of a turn's messages in each successful final read of its conversation. */
function storedRoles(run: ChaosCase, turn: TurnRecord): string[][] {
  return (run.load?.reads ?? [])
    .filter((read) => read.ok && read.conversationId === turn.conversationId)
    .map((read) => read.messages.filter((m) => m.turnId === turn.turnId).map((m) => m.role));
}

describe("a worker SIGKILLed mid-reply while every turn streams (the streaming apps)", () => {
  it("fixed: each cut stream, resumed on another worker, ends turn_interrupted; resent with its turnId, its turn is stored once", async () => {
    const run = await runChaosCase("stream-producer-crash", "fixed", options);
    expect(run.outcome).toMatchObject({ struck: true, verdict: "valid", lost: 0, replaced: true });
    expect(run.check?.totals.duplicated).toBe(0);
    const cuts = cutStreams(run);
    // The kill landed mid-reply: a run that cut nothing would prove nothing.
    expect(cuts.length).toBeGreaterThan(0);
    for (const { turn, stream } of cuts) {
      expect(stream.events.filter((e) => e.type === "delta").length).toBeGreaterThan(0);
      expect(stream.resumes.at(-1)).toMatchObject({ status: 200, crossedWorkers: true });
      expect(stream.error?.code).toBe("turn_interrupted");
      // Sent again with the same turnId, it ran once: acknowledged, and stored exactly once.
      const resend = turn.streams?.at(-1);
      expect(resend?.attempt).toBeGreaterThan(stream.attempt);
      expect(resend?.done?.turnId).toBe(turn.turnId);
      expect(turn.outcome).toBe("ok");
      const roles = storedRoles(run, turn);
      expect(roles.length).toBeGreaterThan(0);
      for (const stored of roles) expect(stored).toEqual(["user", "assistant"]);
    }
    const counted = run.outcome?.streamCuts;
    expect(counted).toMatchObject({
      cut: cuts.length,
      resumedElsewhere: cuts.length,
      ends: { turn_interrupted: cuts.length },
      resent: cuts.length,
      storedOnce: cuts.length,
      streamGaps: 0,
    });
    // It came once the dead worker's lease lapsed (renewed every third of its 2 s, so 1.3 s or
    // more were left at the kill, less only if the worker stalled before it), not at once.
    expect(counted?.interruptedAfterMs?.min).toBeGreaterThan(500);
  }, 120_000);

  it("broken: each cut stream's resume is answered 404 by another worker; its reply is never whole, and the checker says stream-gap", async () => {
    const run = await runChaosCase("stream-producer-crash", "broken", options);
    expect(run.outcome).toMatchObject({ struck: true, verdict: "invalid", replaced: true });
    const cuts = cutStreams(run);
    expect(cuts.length).toBeGreaterThan(0);
    const gaps = new Set(
      run.check?.anomalies.filter((a) => a.kind === "stream-gap").map((a) => a.turnId),
    );
    for (const { turn, stream } of cuts) {
      expect(stream.resumes.at(-1)).toMatchObject({
        status: 404,
        code: "not_found",
        crossedWorkers: true,
      });
      // No attempt of the turn ever got its done event: the rest of the reply is gone.
      expect(turn.streams?.some((s) => s.done)).toBe(false);
      expect(turn.outcome).toBe("unknown");
      expect(gaps.has(turn.turnId)).toBe(true);
    }
    // Its history is in Redis: the replies in flight are all it lost, those cut mid-reply and
    // any turn whose request the kill caught before its answer began (no producer known).
    expect(new Set(run.check?.anomalies.map((a) => a.kind))).toEqual(new Set(["stream-gap"]));
    const caughtBeforeAnswer = (run.load?.turns ?? []).filter(
      (turn) =>
        turn.outcome === "unknown" && (turn.streams ?? []).every((s) => s.producer === undefined),
    );
    expect(run.outcome?.causes.noAnswer).toEqual({
      "connection dropped": cuts.length + caughtBeforeAnswer.length,
    });
    expect(run.outcome?.streamCuts).toMatchObject({
      cut: cuts.length,
      ends: { "HTTP 404 not_found": cuts.length },
      acknowledged: 0,
      streamGaps: cuts.length,
    });
  }, 120_000);
});
