import { describe, expect, it } from "vitest";
import type { AnomalyKind } from "../../lab/check/types.ts";
import { runsTurnGate, SCENARIOS } from "../../scenarios/catalogue.ts";

describe("the scenario catalogue", () => {
  it("names the broken variants' anomalies in the checker's own words", () => {
    // Type-checked: an ExpectedAnomaly the checker does not know would not compile here.
    const kinds: readonly AnomalyKind[] = SCENARIOS.flatMap((s) => s.brokenAnomalies);
    expect(kinds.length).toBeGreaterThanOrEqual(SCENARIOS.length);
  });

  it("runs the turn gate in the fixed apps on Redis only", () => {
    const gated = SCENARIOS.filter((s) => runsTurnGate("fixed", s.name)).map((s) => s.name);
    expect(gated).toEqual(SCENARIOS.filter((s) => s.backends.fixed === "redis").map((s) => s.name));
    expect(gated).not.toContain("file-store");
    for (const s of SCENARIOS) {
      expect(runsTurnGate("broken", s.name)).toBe(false);
      expect(runsTurnGate("exercise", s.name)).toBe(false);
    }
  });
});
