import { describe, expect, it } from "vitest";
import { BenchFlags, benchFlagSpec, SECTIONS } from "../../../lab/bench/cli-options.ts";

describe("bench flags", () => {
  it("default to the documented benchmark", () => {
    expect(BenchFlags.parse({})).toEqual({
      rounds: 3,
      conversations: 160,
      turns: 10,
      connections: 8,
      workers: 4,
      "latency-ms": 5,
      only: [...SECTIONS],
      help: false,
    });
    expect(Object.keys(benchFlagSpec)).toEqual([
      "rounds",
      "conversations",
      "turns",
      "connections",
      "workers",
      "latency-ms",
      "only",
      "json",
      "help",
    ]);
  });

  it("takes up to 100,000 conversations and only known sections", () => {
    expect(BenchFlags.parse({ conversations: "100000" }).conversations).toBe(100_000);
    expect(BenchFlags.safeParse({ conversations: "100001" }).success).toBe(false);
    expect(BenchFlags.safeParse({ only: "growth,nope" }).success).toBe(false);
  });
});
