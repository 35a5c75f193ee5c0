import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import type { ChaosOutcome } from "../../../lab/chaos/outcome.ts";
import { chaosVerdictLine, renderChaosTable } from "../../../lab/chaos/render.ts";
import type { ChaosCase } from "../../../lab/chaos/run-case.ts";

const survived: ChaosOutcome = {
  struck: true,
  verdict: "valid",
  turnsSent: 10,
  acknowledged: 9,
  lost: 0,
  lostFromVictim: 0,
  unknown: 1,
  unknownConnectionLost: 1,
  unknownTimedOut: 0,
  unknownWriteUnconfirmed: 0,
  failed: 0,
  refusals: { "503 store_unavailable": 4 },
  slowestRefusalMs: 3.2,
  recoveryMs: 120,
};
const fixedCase = (outcome: Partial<ChaosOutcome>): ChaosCase => ({
  fault: "redis-crash",
  app: "fixed",
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
    expect(table).toContain("1 unknown outcome (1 connection dropped)");
    expect(table).toContain("503 store_unavailable ×4");
  });
});
