import { describe, expect, it } from "vitest";
import { ChaosFlags, chaosFlagSpec } from "../../../lab/chaos/cli-options.ts";
import { FAULT_NAMES } from "../../../lab/chaos/faults.ts";
import { DEFAULT_CHAOS_OPTIONS as d } from "../../../lab/chaos/run-case.ts";
import { loadFlagSpec } from "../../../lab/load/cli-options.ts";

describe("demo:chaos flags", () => {
  it("default to DEFAULT_CHAOS_OPTIONS", () => {
    expect(ChaosFlags.parse({})).toEqual({
      faults: [...FAULT_NAMES],
      apps: ["broken", "fixed"],
      workers: d.workers,
      conversations: d.conversations,
      turns: d.turns,
      connections: d.connections,
      "latency-ms": d.agentLatencyMs,
      "strike-at": d.strikeAt,
      "down-ms": d.downMs,
      persistence: d.persistence,
      hop: false,
      "redis-sentinel": d.redisSentinel,
      timeout: d.timeoutSeconds,
      help: false,
    });
  });

  it("shares the load test's flags, with bounds of its own", () => {
    for (const name of ["workers", "conversations", "turns", "connections", "timeout", "json"]) {
      expect(chaosFlagSpec[name as keyof typeof chaosFlagSpec]).toEqual(
        loadFlagSpec[name as keyof typeof loadFlagSpec],
      );
    }
    expect(ChaosFlags.safeParse({ workers: "1" }).success).toBe(false);
    expect(ChaosFlags.safeParse({ turns: "101" }).success).toBe(false);
    expect(ChaosFlags.parse({ faults: "redis-crash, worker-crash" }).faults).toEqual([
      "redis-crash",
      "worker-crash",
    ]);
  });
});
