import { parseArgs } from "node:util";
import { describe, expect, it } from "vitest";
import { count, defineFlags, FLAG, specsOf, switchFlag, valueFlag } from "../../lab/cli-flags.ts";

describe("defineFlags", () => {
  const flags = defineFlags(FLAG.workers(), FLAG.sticky(), FLAG.json(), FLAG.help());

  it("gives parseArgs each flag's spec under its name", () => {
    expect(flags.spec).toEqual({
      workers: { type: "string" },
      sticky: { type: "boolean" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    const { values } = parseArgs({
      args: ["--workers", "3", "--sticky", "-h"],
      options: flags.spec,
    });
    expect(flags.schema.parse(values)).toEqual({ workers: 3, sticky: true, help: true });
  });

  it("checks the values with each flag's schema, and reports errors in declaration order", () => {
    expect(flags.schema.parse({})).toEqual({ workers: 4, sticky: false, help: false });
    const parsed = flags.schema.safeParse({ json: 1, workers: "0" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path[0])).toEqual(["workers", "json"]);
  });

  it("drops values of flags it does not declare", () => {
    expect(flags.schema.parse({ url: "http://x", workers: "2" })).toEqual({
      workers: 2,
      sticky: false,
      help: false,
    });
  });
});

describe("FLAG", () => {
  it("a count flag keeps the load test's bounds unless a command gives its own", () => {
    const load = FLAG.workers().schema;
    expect(load.parse(undefined)).toBe(4);
    expect(load.safeParse("64").success).toBe(true);
    expect(load.safeParse("65").success).toBe(false);
    const chaos = FLAG.workers({ min: 2, max: 16, fallback: 3 }).schema;
    expect(chaos.parse(undefined)).toBe(3);
    expect(chaos.safeParse("1").success).toBe(false);
    expect(chaos.safeParse("17").success).toBe(false);
    expect(chaos.safeParse("2.5").success).toBe(false);
  });

  it("names each flag as it is typed on the command line", () => {
    expect(Object.keys(specsOf(FLAG.retryRate(), FLAG.maxSeconds(), FLAG.latencyMs()))).toEqual([
      "retry-rate",
      "max-seconds",
      "latency-ms",
    ]);
    expect(FLAG.redisCluster()).toMatchObject({ name: "redis-cluster", spec: { type: "boolean" } });
  });

  it("builds a command's own flags the same way", () => {
    expect(valueFlag("rounds", count(1, 50, 3))).toMatchObject({
      name: "rounds",
      spec: { type: "string" },
    });
    expect(switchFlag("hop").schema.parse(undefined)).toBe(false);
  });
});
