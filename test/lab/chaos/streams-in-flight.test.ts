import { describe, expect, it } from "vitest";
import { MID_REPLY_MAX_DELTAS, StreamsInFlight } from "../../../lab/chaos/streams-in-flight.ts";

describe("StreamsInFlight: a worker whose every reply in flight is part-way through", () => {
  it("picks the worker with the most streams mid-reply, by the pid of its workerKey", () => {
    const inFlight = new StreamsInFlight();
    inFlight.sent("a", "host:with:colons:11");
    inFlight.sent("b", "host:with:colons:11");
    inFlight.sent("c", "other:12");
    for (const turnId of ["a", "b", "c"]) inFlight.delta(turnId, 1);
    inFlight.delta("b", 3);
    expect(inFlight.midReplyWorker()).toEqual({ pid: 11, streams: 2, deltas: "1-3" });
  });

  it("rules out a worker with an attempt still without a delta, or too far into its reply", () => {
    const inFlight = new StreamsInFlight();
    inFlight.sent("a", "h:11");
    inFlight.delta("a", 2);
    inFlight.sent("b", "h:11");
    // b's stream may hold no event yet: what a kill does to it is unclear.
    expect(inFlight.midReplyWorker()).toBeUndefined();
    inFlight.delta("b", 1);
    expect(inFlight.midReplyWorker()).toEqual({ pid: 11, streams: 2, deltas: "1-2" });
    // Near its end, a reply may be stored before the kill lands.
    inFlight.delta("a", MID_REPLY_MAX_DELTAS + 1);
    expect(inFlight.midReplyWorker()).toBeUndefined();
    inFlight.settled("a");
    expect(inFlight.midReplyWorker()).toEqual({ pid: 11, streams: 1, deltas: "1" });
  });

  it("picks no one while an attempt's worker is unknown (it could be any), or nothing streams", () => {
    const inFlight = new StreamsInFlight();
    expect(inFlight.midReplyWorker()).toBeUndefined();
    inFlight.sent("a", "h:11");
    inFlight.delta("a", 1);
    inFlight.sent("b", undefined);
    expect(inFlight.midReplyWorker()).toBeUndefined();
  });

  it("is not written into the load's JSON options (its state is private)", () => {
    const inFlight = new StreamsInFlight();
    inFlight.sent("a", "h:11");
    expect(JSON.stringify(inFlight)).toBe("{}");
  });
});
