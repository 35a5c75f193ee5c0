import { afterEach, describe, expect, it, vi } from "vitest";
import {
  demoAppFlagSpec,
  demoLatencyMs,
  demoScenariosFlagSpec,
  LoadFlags,
  loadCommandFlagSpec,
  loadFlagSpec,
  resendRefused,
  streamLoad,
} from "../../../lab/load/cli-options.ts";

describe("the load test's flags", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("default to the documented load", () => {
    expect(LoadFlags.parse({})).toEqual({
      workers: 4,
      conversations: 24,
      turns: 8,
      connections: 8,
      sticky: false,
      replicas: 1,
      "retry-rate": 0,
      "resend-refused": 0,
      timeout: 10,
      "max-seconds": 120,
      help: false,
    });
  });

  it("each command adds its own flags to the same load flags", () => {
    const loadFlags = Object.keys(loadFlagSpec);
    expect(Object.keys(loadCommandFlagSpec)).toEqual([...loadFlags, "url", "turn-limit"]);
    expect(Object.keys(demoAppFlagSpec)).toEqual([
      ...loadFlags,
      "app",
      "scenario",
      "latency-ms",
      "expect",
      "redis-cluster",
      "redis-sentinel",
    ]);
    expect(Object.keys(demoScenariosFlagSpec)).toEqual([...loadFlags, "latency-ms"]);
    expect(demoAppFlagSpec["redis-cluster"]).toEqual({ type: "boolean" });
    expect(demoAppFlagSpec["redis-sentinel"]).toEqual({ type: "boolean" });
  });

  it("--latency-ms of a demo: the flag, else AGENT_LATENCY_MS, else 5; a whole number >= 0", () => {
    vi.stubEnv("AGENT_LATENCY_MS", undefined);
    expect(demoLatencyMs(undefined)).toBe(5);
    vi.stubEnv("AGENT_LATENCY_MS", "12");
    expect(demoLatencyMs(undefined)).toBe(12);
    expect(demoLatencyMs("0")).toBe(0);
    expect(() => demoLatencyMs("-1")).toThrow("--latency-ms must be a whole number >= 0");
    expect(() => demoLatencyMs("1.5")).toThrow("--latency-ms must be a whole number >= 0");
  });

  it("--resend-refused MS turns into the scheduler's resend option, off at 0", () => {
    expect(resendRefused({})).toBeUndefined();
    expect(resendRefused({ "resend-refused": 0 })).toBeUndefined();
    expect(resendRefused({ "resend-refused": 250 })).toEqual({ backoffMs: 250, maxAttempts: 100 });
  });

  it("--stream, --disconnect-rate, --disconnect-after: the flags, else the scenario's defaults", () => {
    expect(
      LoadFlags.parse({ stream: true, "disconnect-rate": "0.25", "disconnect-after": "3" }),
    ).toMatchObject({
      stream: true,
      "disconnect-rate": 0.25,
      "disconnect-after": 3,
    });
    expect(LoadFlags.safeParse({ "disconnect-rate": "1.5" }).success).toBe(false);
    expect(streamLoad({})).toEqual({ stream: false });
    expect(streamLoad({ stream: true })).toEqual({ stream: true, disconnect: undefined });
    // A disconnect rate implies streamed turns; 2 deltas before the drop unless told.
    expect(streamLoad({ "disconnect-rate": 0.3 })).toEqual({
      stream: true,
      disconnect: { rate: 0.3, afterDeltas: 2 },
    });
    const streaming = { stream: true, disconnectRate: 0.5 };
    expect(streamLoad({}, streaming)).toEqual({
      stream: true,
      disconnect: { rate: 0.5, afterDeltas: 2 },
    });
    expect(streamLoad({ "disconnect-rate": 0, "disconnect-after": 4 }, streaming)).toEqual({
      stream: true,
      disconnect: undefined,
    });
    expect(streamLoad({ "disconnect-after": 4 }, streaming).disconnect).toEqual({
      rate: 0.5,
      afterDeltas: 4,
    });
  });
});
