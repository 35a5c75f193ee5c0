import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import type { ChaosOutcome } from "../../../lab/chaos/outcome.ts";
import { chaosNotes, chaosVerdictLine, renderChaosTable } from "../../../lab/chaos/render.ts";
import type { ChaosCase } from "../../../lab/chaos/run-case.ts";
import type { StreamCuts } from "../../../lab/chaos/stream-cuts.ts";

const survived: ChaosOutcome = {
  struck: true,
  verdict: "valid",
  turnsSent: 10,
  turns: { acknowledged: 9, refused: 0, uncertain: 0, noAnswer: 1 },
  causes: {
    acknowledged: { "HTTP 200": 9 },
    refused: {},
    uncertain: {},
    noAnswer: { "connection dropped": 1 },
  },
  lost: 0,
  lostFromVictim: 0,
  refusedSends: { "HTTP 503 store_unavailable": 4 },
  uncertainSends: {},
  slowestRefusalMs: 3.2,
  recoveryMs: 120,
};
const fixedCase = (outcome: Partial<ChaosOutcome>, fault: ChaosCase["fault"] = "redis-crash") => ({
  fault,
  app: "fixed" as const,
  outcome: { ...survived, ...outcome },
});

describe("the chaos verdict (what demo:chaos exits with)", () => {
  it("passes only when every fixed run struck, lost nothing and was valid", () => {
    expect(chaosVerdictLine([fixedCase({})]).ok).toBe(true);
    expect(chaosVerdictLine([fixedCase({}), fixedCase({ lost: 1, verdict: "invalid" })]).ok).toBe(
      false,
    );
    // A fault that never struck proves nothing; neither does an inconclusive check.
    expect(chaosVerdictLine([fixedCase({ struck: false })]).ok).toBe(false);
    expect(chaosVerdictLine([fixedCase({ verdict: "unknown" })]).ok).toBe(false);
    expect(chaosVerdictLine([fixedCase({ replaced: false })]).ok).toBe(false);
    expect(chaosVerdictLine([]).ok).toBe(false);
  });

  it("expects a row meant to lose (no WAIT before acknowledging) to lose, and says why", () => {
    const noWait = (lost: number) =>
      fixedCase({ lost, verdict: lost > 0 ? "invalid" : "valid" }, "redis-failover-no-wait");
    const shown = chaosVerdictLine([fixedCase({}, "redis-failover"), noWait(3)]);
    expect(shown.ok).toBe(true);
    expect(stripVTControlCharacters(shown.line)).toMatch(
      /lost 0 acknowledged turns in its run \(redis-failover\)\.\nredis-failover-no-wait: lost 3 acknowledged, as it is meant to: replication is asynchronous/,
    );
    // A run where the weaker setting lost nothing did not show the lesson: not a pass.
    const unshown = chaosVerdictLine([fixedCase({}, "redis-failover"), noWait(0)]);
    expect(unshown.ok).toBe(false);
    expect(stripVTControlCharacters(unshown.line)).toMatch(/redis-failover-no-wait lost nothing/);
  });

  it("shows what each app went through, and n/a where a fault does not apply", () => {
    // Colours are on under CI (picocolors honours CI): compare the text a person reads.
    const table = stripVTControlCharacters(
      renderChaosTable([
        { fault: "redis-crash", app: "broken", skipped: "there is no Redis to fail" },
        fixedCase({}),
      ]),
    );
    expect(table).toContain("n/a: there is no Redis to fail");
    expect(table).toContain("lost 0 of 9 acknowledged");
    expect(table).toContain("10 turns sent: 9 acknowledged,");
    expect(table).toContain("  0 refused, 0 uncertain, 1 no answer");
    expect(table).toContain("1 no answer:");
    expect(table).toContain("  connection dropped ×1");
    expect(table).toContain("4 sends refused, slowest 3.2 ms");
    expect(table).toContain("HTTP 503 store_unavailable ×4");
  });
});

describe("a row about streams cut by a worker's death (stream-producer-crash)", () => {
  const cuts = (over: Partial<StreamCuts> = {}): StreamCuts => ({
    cut: 4,
    turns: 4,
    resumedElsewhere: 4,
    ends: { turn_interrupted: 4 },
    interruptedAfterMs: { min: 1890.4, max: 2210.6 },
    resent: 4,
    acknowledged: 4,
    storedOnce: 4,
    streamGaps: 0,
    ...over,
  });
  const fixed = (over: Partial<StreamCuts> = {}) =>
    fixedCase({ streamCuts: cuts(over), replaced: true }, "stream-producer-crash");
  const lostReplies = cuts({
    ends: { "HTTP 404 not_found": 4 },
    interruptedAfterMs: undefined,
    resent: 0,
    acknowledged: 0,
    storedOnce: 0,
    streamGaps: 4,
  });
  const broken = (over: Partial<ChaosOutcome> = {}): ChaosCase => ({
    fault: "stream-producer-crash",
    app: "broken",
    outcome: { ...survived, verdict: "invalid", streamCuts: lostReplies, ...over },
  });

  it("passes when the fixed app's cut streams ended turn_interrupted, were resent and stored once, and the broken app's were caught", () => {
    const verdict = chaosVerdictLine([broken(), fixed()]);
    expect(verdict.ok).toBe(true);
    expect(stripVTControlCharacters(verdict.line)).toContain(
      "stream-producer-crash (fixed): 4 streams cut mid-reply; each, resumed on another worker, ended turn_interrupted once the lease lapsed, was resent with its turnId and stored once.",
    );
    expect(stripVTControlCharacters(verdict.line)).toContain(
      "stream-producer-crash (broken): 4 streams cut mid-reply; the rest of each reply died with the worker's memory (stream-gap), as it is meant to.",
    );
  });

  it("fails a run whose kill cut no stream, in either app: it did not show what the row is for", () => {
    const none = { cut: 0, turns: 0, resumedElsewhere: 0, ends: {}, resent: 0, storedOnce: 0 };
    for (const verdict of [
      chaosVerdictLine([fixed(none)]),
      chaosVerdictLine([fixed(), broken({ streamCuts: { ...lostReplies, ...none } })]),
    ]) {
      expect(verdict.ok).toBe(false);
      expect(stripVTControlCharacters(verdict.line)).toMatch(/the kill cut no stream/);
    }
  });

  it("fails when a cut stream of the fixed app ended otherwise, was not resent, or was stored twice", () => {
    expect(chaosVerdictLine([fixed({ ends: { turn_interrupted: 3, done: 1 } })]).ok).toBe(false);
    expect(chaosVerdictLine([fixed({ resent: 3 })]).ok).toBe(false);
    expect(chaosVerdictLine([fixed({ storedOnce: 3 })]).ok).toBe(false);
    // "each" only when every cut turn was stored once.
    const table = stripVTControlCharacters(renderChaosTable([fixed({ storedOnce: 3 })]));
    expect(table).toContain("stored once: 3 of 4");
    expect(table).not.toContain("each stored once");
    expect(chaosVerdictLine([fixed({ resumedElsewhere: 3 })]).ok).toBe(false);
  });

  it("fails when the broken app's lost replies were not all caught as stream-gap", () => {
    expect(chaosVerdictLine([fixed(), broken({ verdict: "valid" })]).ok).toBe(false);
    const missed = broken({ streamCuts: { ...lostReplies, streamGaps: 3 } });
    expect(chaosVerdictLine([fixed(), missed]).ok).toBe(false);
  });

  it("shows what the kill cut and what each client got, and which apps the row runs", () => {
    const table = stripVTControlCharacters(renderChaosTable([broken(), fixed()]));
    expect(table).toMatch(/the streaming apps: broken\s/);
    expect(table).toContain("reply stream in Redis");
    expect(table).toContain("4 streams cut mid-reply by the kill:");
    expect(table).toContain("resumed on another worker ×4");
    expect(table).toContain("ended turn_interrupted ×4");
    expect(table).toContain("1890-2211 ms after the kill");
    expect(table).toContain("resent with their turnIds ×4");
    expect(table).toContain("each stored once ×4");
    expect(table).toContain("answered HTTP 404 not_found ×4");
    expect(table).toContain("the rest of the reply lost ×4");
  });
});

describe("the chaos legend", () => {
  const notes = flat(stripVTControlCharacters(chaosNotes({ sticky: true, timeoutSeconds: 3 })));

  it("defines the four categories with the answers of each, as the table names them", () => {
    expect(notes).toMatch(/acknowledged: [^:]*: HTTP 200 refused:/);
    expect(notes).toMatch(
      /refused: [^:]*: HTTP 503 store_unavailable, HTTP 409 conversation_busy,/,
    );
    expect(notes).toMatch(/uncertain: [^:]*: HTTP 503 store_write_uncertain, /);
    expect(notes).toMatch(/no answer: [^:]*: connection dropped, no answer in time \(3 s\)/);
  });

  it("explains cut streams only when such a row ran, with the client's wait", () => {
    expect(notes).not.toContain("streams cut:");
    const withStreams = flat(
      stripVTControlCharacters(
        chaosNotes({ sticky: true, timeoutSeconds: 3, streamTimeoutSeconds: 5 }),
      ),
    );
    expect(withStreams).toMatch(/streams cut: .* turn_interrupted .* answered 404 .*up to 5 s/);
  });

  it("phrases lost so it holds for the broken app too, and never shows a bare status", () => {
    expect(notes).toContain("the fixed app must show 0; the broken one is expected to lose some");
    expect(notes).not.toMatch(/Must be 0|\(\d{3}\)/);
  });
});

/** The legend as one line, to match a sentence across its line breaks. */
function flat(text: string): string {
  return text.replace(/\s+/g, " ");
}
