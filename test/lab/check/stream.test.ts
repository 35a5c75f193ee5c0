import { describe, expect, it } from "vitest";
import { checkRun } from "../../../lab/check/checker.ts";
import type {
  FinalRead,
  RunRecord,
  StreamEventLog,
  StreamResume,
  TurnRecord,
  TurnStream,
} from "../../../lab/load/records.ts";
import type { ChatMessage, ServedBy } from "../../../service/contract.ts";
import { counts, NO_ANOMALIES, W0, W1 } from "./fixtures.ts";

const REPLY = ["You ", "said ", "hi. ", "I ", "remember ", "nothing."];

/** The events a whole stream of REPLY holds: one delta per word, then done. */
function wholeStream(): StreamEventLog[] {
  return [
    ...REPLY.map((text, i) => ({ id: i + 1, type: "delta", text })),
    { id: REPLY.length + 1, type: "done" },
  ];
}

function resumeOf(events: StreamEventLog[], overrides: Partial<StreamResume> = {}): StreamResume {
  return {
    lastEventId: 2,
    landedOnProducer: 0,
    status: 200,
    worker: { workerId: W1.workerId, pid: W1.pid },
    crossedWorkers: true,
    events,
    ...overrides,
  };
}

/** A streamed turn produced by `producer`, acknowledged by its done event unless told otherwise. */
function streamedTurn(
  conversationId: string,
  index: number,
  stream: Partial<TurnStream> = {},
  producer: ServedBy = W0,
): TurnRecord {
  const turnId = `${conversationId}-t${index + 1}`;
  const reply = REPLY.join("");
  const done = { conversationId, turnId, reply, messagesSeen: 2 * index + 1, servedBy: producer };
  const full: TurnStream = {
    attempt: 0,
    producer,
    events: wholeStream(),
    resumes: [],
    done,
    ...stream,
  };
  const acknowledged = full.done !== undefined;
  const sentAt = 1_000 + index * 100;
  return {
    conversationId,
    index,
    turnId,
    text: `question ${index + 1}`,
    sentAt,
    answeredAt: sentAt + 50,
    outcome: acknowledged ? "ok" : "unknown",
    status: 200,
    ...(acknowledged && { servedBy: producer, messagesSeen: 2 * index + 1, reply }),
    streams: [full],
  };
}

/** Dropped after 2 deltas, resumed on W1 with the remaining events. */
function droppedAndResumed(rest: StreamEventLog[] = wholeStream().slice(2)): Partial<TurnStream> {
  const events = wholeStream().slice(0, 2);
  return { events, cut: "dropped", droppedAfter: 2, resumes: [resumeOf(rest)] };
}

function storedMessages(turns: TurnRecord[], reply = REPLY.join("")): ChatMessage[] {
  return turns.flatMap((turn) => {
    const base = { turnId: turn.turnId, servedBy: W0, at: "2026-01-01T00:00:00.000Z" };
    return [
      { ...base, role: "user" as const, content: turn.text },
      { ...base, role: "assistant" as const, content: reply },
    ];
  });
}

function streamedRun(turns: TurnRecord[], reads?: FinalRead[], disconnectRate = 0.5): RunRecord {
  const ids = [...new Set(turns.map((t) => t.conversationId))];
  const everyRead = ids.flatMap((id) =>
    [W0, W1].map((servedBy) => ({
      conversationId: id,
      ok: true,
      status: 200,
      servedBy,
      messages: storedMessages(
        turns.filter((t) => t.conversationId === id && t.outcome !== "failed"),
      ),
    })),
  );
  return { turns, reads: reads ?? everyRead, workersExpected: 2, stream: true, disconnectRate };
}

describe("checkRun on streamed turns", () => {
  it("valid: every stream whole, the dropped ones resumed on another worker", () => {
    const turns = [
      streamedTurn("a", 0, droppedAndResumed()),
      streamedTurn("a", 1, {}, W1),
      streamedTurn("b", 0, {}, W1),
      streamedTurn("b", 1, droppedAndResumed()),
    ];
    const result = checkRun(streamedRun(turns));
    expect(result.anomalies).toEqual([]);
    expect(result.verdict).toBe("valid");
    expect(counts(result)).toEqual(NO_ANOMALIES);
    expect(result.totals).toMatchObject({
      streamedTurns: 4,
      streamsDropped: 2,
      resumes: 2,
      resumesCrossedWorkers: 2,
    });
  });

  it("stream-gap: an id the client never got", () => {
    const hole = wholeStream().slice(3); // 3 never arrives
    const result = checkRun(streamedRun([streamedTurn("a", 0, droppedAndResumed(hole))]));
    expect(counts(result)).toEqual({ ...NO_ANOMALIES, streamGap: 1 });
    expect(result.verdict).toBe("invalid");
    expect(result.anomalies[0]?.detail).toBe(
      "turn 1 (a-t1), streamed by worker 0 (pid 100): the client got event ids 1-2, 4-7 but never 3",
    );
  });

  it("stream-gap: the resume was refused on another worker, so the stream never reached its end", () => {
    const refused = resumeOf([], { status: 404, code: "not_found" });
    const turn = streamedTurn("a", 0, {
      ...droppedAndResumed(),
      resumes: [refused],
      done: undefined,
    });
    const result = checkRun(streamedRun([turn, streamedTurn("a", 1, {}, W1)]));
    expect(turn.outcome).toBe("unknown");
    expect(counts(result)).toEqual({ ...NO_ANOMALIES, streamGap: 1 });
    expect(result.reasons).toEqual([
      "1 streamed reply that never reached its client whole (an event missing, or no done or error after a resume)",
    ]);
    expect(result.anomalies[0]?.detail).toBe(
      "turn 1 (a-t1), streamed by worker 0 (pid 100): the client got events 1-2, then dropped the connection after 2 deltas; its resume with Last-Event-ID 2 on worker 1 (pid 101) was answered 404 not_found, so it never got done or error",
    );
  });

  it("stream-duplicate: the resume sent again an event the client already had", () => {
    const again = resumeOf(wholeStream().slice(1), { lastEventId: 1 });
    const turn = streamedTurn("a", 0, { ...droppedAndResumed(), resumes: [again] });
    const result = checkRun(streamedRun([turn]));
    expect(counts(result)).toEqual({ ...NO_ANOMALIES, streamDuplicate: 1 });
    expect(result.anomalies[0]?.detail).toBe(
      "turn 1 (a-t1): the client got event 2 twice: event 2 over the first response from worker 0 (pid 100) and again over its resume on worker 1 (pid 101) (Last-Event-ID 1)",
    );
  });

  it("stream-mismatch: the deltas, joined, are not done's reply", () => {
    const altered = wholeStream().map((e) => (e.id === 3 ? { ...e, text: "bye. " } : e));
    const result = checkRun(streamedRun([streamedTurn("a", 0, { events: altered })]));
    expect(counts(result)).toEqual({ ...NO_ANOMALIES, streamMismatch: 1 });
    expect(result.anomalies[0]?.detail).toBe(
      'turn 1 (a-t1): its 6 deltas, joined, differ from done\'s reply from character 10 on ("bye. I remember nothing." vs "hi. I remember nothing.")',
    );
  });

  it("stream-mismatch: done's reply is not the assistant message stored for the turn", () => {
    const turn = streamedTurn("a", 0);
    const read = (servedBy: ServedBy, reply?: string): FinalRead => ({
      conversationId: "a",
      ok: true,
      status: 200,
      servedBy,
      messages: storedMessages([turn], reply),
    });
    const result = checkRun(streamedRun([turn], [read(W0), read(W1, "You said hi.")]));
    expect(counts(result)).toEqual({ ...NO_ANOMALIES, streamMismatch: 1, divergent: 0 });
    expect(result.anomalies[0]?.detail).toMatch(
      /^turn 1 \(a-t1\): done's reply differs from the assistant message stored for it in the final read served by worker 1 \(pid 101\) from character 13 on/,
    );
  });

  it("lost still counts an acknowledged streamed turn no read shows", () => {
    const turns = [streamedTurn("a", 0), streamedTurn("a", 1, {}, W1)];
    const reads = [W0, W1].map((servedBy) => ({
      conversationId: "a",
      ok: true,
      status: 200,
      servedBy,
      messages: storedMessages([turns[0] as TurnRecord]),
    }));
    expect(counts(checkRun(streamedRun(turns, reads)))).toEqual({ ...NO_ANOMALIES, lost: 1 });
  });

  it("unknown, never valid: streams were dropped but no resume reached another worker", () => {
    const onProducer = resumeOf(wholeStream().slice(2), {
      worker: { workerId: W0.workerId, pid: W0.pid },
      crossedWorkers: false,
      landedOnProducer: 8,
    });
    const turn = streamedTurn("a", 0, { ...droppedAndResumed(), resumes: [onProducer] });
    const result = checkRun(streamedRun([turn, streamedTurn("a", 1, {}, W1)]));
    expect(result.anomalies).toEqual([]);
    expect(result.verdict).toBe("unknown");
    expect(result.reasons).toEqual([
      "none of the 1 resume reached another worker than the one producing its turn: no stream was resumed elsewhere, so the test did not exercise the bug",
    ]);
    // Nothing dropped at all proves nothing either; without --disconnect-rate it is not asked.
    const clean = [streamedTurn("a", 0), streamedTurn("a", 1, {}, W1)];
    const noDrop = checkRun(streamedRun(clean));
    expect(noDrop.verdict).toBe("unknown");
    expect(noDrop.reasons[0]).toMatch(
      /^--disconnect-rate 0.5 resumed no streamed turn \(0 dropped\)/,
    );
    expect(checkRun(streamedRun(clean, undefined, 0)).verdict).toBe("valid");
  });

  it("unknown when every turn was asked for as a stream and none came as one", () => {
    const plain = streamedTurn("a", 0);
    plain.streams = undefined;
    const other = { ...streamedTurn("a", 1, {}, W1), streams: undefined };
    const result = checkRun(streamedRun([plain, other], undefined, 0));
    expect(result.verdict).toBe("unknown");
    expect(result.reasons[0]).toMatch(
      /^every turn was asked for as a stream, but the app answered none/,
    );
  });

  it("a stream the run's own stop cut proves nothing: no anomaly", () => {
    const stopped = streamedTurn("a", 1, {
      events: wholeStream().slice(0, 2),
      cut: "run-stopped",
      done: undefined,
    });
    const result = checkRun(streamedRun([streamedTurn("a", 0, droppedAndResumed()), stopped]));
    expect(result.anomalies).toEqual([]);
  });
});
