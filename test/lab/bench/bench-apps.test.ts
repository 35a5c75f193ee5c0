import { describe, expect, it } from "vitest";
import {
  CONTENDERS,
  contendersFor,
  FRAMEWORK_CONTENDERS,
  FRAMEWORK_REFERENCE,
  STREAMING_CONTENDERS,
} from "../../../lab/bench/bench-apps.ts";

describe("bench contenders", () => {
  it("pair each fixed framework app with its broken twin", () => {
    expect(FRAMEWORK_CONTENDERS.map((c) => [c.label, c.twin])).toEqual([
      ["broken · langgraph · checkpoints in worker memory", undefined],
      [
        "fixed · langgraph · checkpoints in Redis",
        "broken · langgraph · checkpoints in worker memory",
      ],
      ["broken · openai-agents · session in worker memory", undefined],
      [
        "fixed · openai-agents · session in Redis",
        "broken · openai-agents · session in worker memory",
      ],
    ]);
  });

  it("start only what the chosen sections measure, each app once", () => {
    const labels = (sections: string[]) => contendersFor(sections).map((c) => c.label);
    expect(labels(["growth"])).toEqual(CONTENDERS.map((c) => c.label));
    expect(labels(["frameworks"])).toEqual([
      FRAMEWORK_REFERENCE,
      ...FRAMEWORK_CONTENDERS.map((c) => c.label),
    ]);
    expect(labels(["throughput", "frameworks"])).toEqual([
      ...CONTENDERS.map((c) => c.label),
      ...FRAMEWORK_CONTENDERS.map((c) => c.label),
    ]);
    expect(labels(["streaming"])).toEqual(STREAMING_CONTENDERS.map((c) => c.label));
  });

  it("stream with each flush interval next to the broken app, for the default model and a bursty one", () => {
    expect(STREAMING_CONTENDERS.map((c) => [c.label, c.env?.STREAM_FLUSH_MS])).toEqual([
      ["broken · stream in worker memory", "20"],
      ["fixed · stream in Redis, flush 0 ms", "0"],
      ["fixed · stream in Redis", "20"],
      ["fixed · stream in Redis, flush 50 ms", "50"],
      ["broken · stream in worker memory, bursty model", "20"],
      ["fixed · stream in Redis, flush 0 ms, bursty model", "0"],
      ["fixed · stream in Redis, bursty model", "20"],
      ["fixed · stream in Redis, flush 50 ms, bursty model", "50"],
    ]);
    expect(STREAMING_CONTENDERS.every((c) => c.scenario === "streaming")).toBe(true);
  });
});
