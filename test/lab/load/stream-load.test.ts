import { afterEach, describe, expect, it } from "vitest";
import { checkRun } from "../../../lab/check/checker.ts";
import type { TurnRecord } from "../../../lab/load/records.ts";
import { type LoadOptions, runLoad } from "../../../lab/load/run-load.ts";
import { type FakeStreamAppOptions, startFakeStreamApp } from "../../helpers/fake-stream-app.ts";

const TOKEN = "stream-token";
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function fakeApp(options: Omit<FakeStreamAppOptions, "token">): Promise<string> {
  const app = await startFakeStreamApp({ token: TOKEN, ...options });
  stops.push(app.stop);
  return app.url;
}

function options(url: string, overrides: Partial<LoadOptions> = {}): LoadOptions {
  return {
    url,
    token: TOKEN,
    conversations: 6,
    turns: 4,
    connections: 4,
    workers: 4,
    sticky: false,
    overlap: 1,
    retryRate: 0,
    seed: 3,
    timeoutSeconds: 5,
    maxSeconds: 30,
    progress: false,
    stream: true,
    disconnect: { rate: 0.5, afterDeltas: 2 },
    ...overrides,
  };
}

/** Each conversation's turns in order: the worker that produced each one's stream. */
function producersByConversation(turns: TurnRecord[]): number[][] {
  const byId = new Map<string, TurnRecord[]>();
  for (const turn of turns)
    byId.set(turn.conversationId, [...(byId.get(turn.conversationId) ?? []), turn]);
  return [...byId.values()].map((list) =>
    list.sort((a, b) => a.index - b.index).map((turn) => turn.streams?.[0]?.producer?.pid ?? 0),
  );
}

/** One conversation of one turn, dropped after 2 deltas: the load and that stream's first resume. */
async function resumeOneTurn(url: string, workers: number) {
  const load = await runLoad(
    options(url, {
      conversations: 1,
      turns: 1,
      connections: 1,
      workers,
      disconnect: { rate: 1, afterDeltas: 2 },
    }),
  );
  return { load, resume: load.turns[0]?.streams?.[0]?.resumes[0] };
}

describe("runLoad --stream against a fake cluster", () => {
  it("drops the seeded share after 2 deltas and resumes each on another worker: whole, valid", async () => {
    const url = await fakeApp({ workers: 4, sharedStreams: true });
    const load = await runLoad(options(url));
    expect(load.stream).toBe(true);
    expect(load.disconnectRate).toBe(0.5);
    expect(load.turns).toHaveLength(24);
    expect(load.turns.every((t) => t.outcome === "ok" && t.streams?.length === 1)).toBe(true);
    const dropped = load.turns.filter((t) => t.streams?.[0]?.cut === "dropped");
    expect(dropped).toHaveLength(12);
    for (const turn of dropped) {
      const stream = turn.streams?.[0];
      expect(stream?.droppedAfter).toBe(2);
      expect(stream?.events.map((e) => e.id)).toEqual([1, 2]);
      const [resume] = stream?.resumes ?? [];
      expect(resume).toMatchObject({ lastEventId: 2, status: 200, crossedWorkers: true });
      expect(resume?.worker?.pid).not.toBe(stream?.producer?.pid);
      const ids = resume?.events.map((e) => e.id) ?? [];
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 3));
      expect(resume?.events.at(-1)?.type).toBe("done");
      // The text the client pieced together is the reply done carries.
      const text = [...(stream?.events ?? []), ...(resume?.events ?? [])].map((e) => e.text ?? "");
      expect(text.join("")).toBe(turn.reply);
    }
    // The hop holds: every turn was produced by another worker than its conversation's previous one.
    for (const producers of producersByConversation(load.turns)) {
      for (let i = 1; i < producers.length; i++) expect(producers[i]).not.toBe(producers[i - 1]);
    }
    const check = checkRun(load);
    expect(check.verdict).toBe("valid");
    expect(check.totals).toMatchObject({
      streamedTurns: 24,
      streamsDropped: 12,
      resumes: 12,
      resumesCrossedWorkers: 12,
      streamGap: 0,
    });
  });

  it("a resume refused (404 on another worker): stream-gap, the turn unknown, its conversation goes on", async () => {
    const url = await fakeApp({ workers: 4, sharedStreams: false });
    const load = await runLoad(options(url));
    expect(load.turns).toHaveLength(24);
    const cut = load.turns.filter((t) => t.streams?.[0]?.cut === "dropped");
    expect(cut).toHaveLength(12);
    for (const turn of cut) {
      expect(turn.outcome).toBe("unknown");
      expect(turn.streams?.[0]?.resumes[0]).toMatchObject({ status: 404, code: "not_found" });
      // The client found it stored, so later turns could be ordered after it.
      expect(turn.streams?.[0]?.lookedUp?.found).toBe(true);
    }
    const check = checkRun(load);
    expect(check.verdict).toBe("invalid");
    expect(check.totals.streamGap).toBe(12);
    expect(check.anomalies.every((a) => a.kind === "stream-gap")).toBe(true);
    expect(check.anomalies[0]?.detail).toMatch(
      /streamed by worker \d \(pid 50\d\d\): the client got events 1-2, then dropped the connection after 2 deltas; its resume with Last-Event-ID 2 on worker \d \(pid 50\d\d\) was answered 404 not_found/,
    );
  });

  it("tells a stream watch where each attempt went and how far its reply got, until it settles", async () => {
    const url = await fakeApp({ workers: 2, sharedStreams: true });
    const calls: string[] = [];
    const sentTo = new Map<string, string | undefined>();
    const inFlight = new Map<string, { deltas: number }>();
    const load = await runLoad(
      options(url, {
        conversations: 2,
        turns: 2,
        workers: 2,
        disconnect: undefined,
        streamWatch: {
          sent: (turnId, worker) => {
            calls.push(`sent ${turnId}`);
            sentTo.set(turnId, worker);
            inFlight.set(turnId, { deltas: 0 });
          },
          delta: (turnId, deltas) => {
            const attempt = inFlight.get(turnId);
            // Counted up one by one, only while the attempt is in flight.
            expect(attempt?.deltas).toBe(deltas - 1);
            if (attempt) attempt.deltas = deltas;
          },
          settled: (turnId) => {
            calls.push(`settled ${turnId}`);
            expect(inFlight.get(turnId)?.deltas).toBeGreaterThan(0);
            inFlight.delete(turnId);
          },
        },
      }),
    );
    expect(load.turns).toHaveLength(4);
    for (const turn of load.turns) {
      expect(calls.filter((c) => c === `sent ${turn.turnId}`)).toHaveLength(1);
      expect(calls.filter((c) => c === `settled ${turn.turnId}`)).toHaveLength(1);
    }
    expect(inFlight.size).toBe(0);
    // Each went to the worker its connection knew (its workerKey): the one that produced it.
    for (const turn of load.turns) {
      expect(sentTo.get(turn.turnId)).toBe(`fake:${turn.streams?.[0]?.producer?.pid}`);
    }
  });

  it("a resume that reaches the producer is aborted, and another fresh connection tried", async () => {
    // Connection 0 (the load's) and 1 (the first resume) reach worker 0; 2 reaches worker 1.
    const url = await fakeApp({ workers: 2, sharedStreams: true, assign: (n) => (n < 2 ? 0 : 1) });
    const { load, resume } = await resumeOneTurn(url, 2);
    expect(resume).toMatchObject({
      landedOnProducer: 1,
      crossedWorkers: true,
      worker: { pid: 5001 },
    });
    expect(load.turns[0]?.outcome).toBe("ok");
  });

  it("a resume that gets no answer (its worker just died) is tried again on another fresh connection", async () => {
    // Connection 0 (the load's) reaches worker 0; 1 (the first resume) the dead worker 2,
    // which never answers; 2 reaches worker 1.
    const url = await fakeApp({
      workers: 3,
      sharedStreams: true,
      assign: (n) => [0, 2][n] ?? 1,
      deadWorkers: [2],
    });
    const { load, resume } = await resumeOneTurn(url, 3);
    expect(resume).toMatchObject({ unanswered: 1, crossedWorkers: true, worker: { pid: 5001 } });
    // Without the second try the resume would wait out the answer timeout and end cut: unknown.
    expect(load.turns[0]?.outcome).toBe("ok");
  });

  it("with one worker every resume lands on the producer: the checker says unknown", async () => {
    const url = await fakeApp({ workers: 1, sharedStreams: false });
    const load = await runLoad(options(url, { workers: 1 }));
    expect(load.turns.every((t) => t.outcome === "ok")).toBe(true);
    const check = checkRun(load);
    expect(check.totals).toMatchObject({ resumes: 12, resumesCrossedWorkers: 0, streamGap: 0 });
    expect(check.verdict).toBe("unknown");
    expect(check.reasons).toEqual([
      "the app ran one worker, so every resume landed on the worker producing its turn: no stream was resumed elsewhere, so the test did not exercise the bug",
    ]);
  });

  it("a refusal before the stream is the usual JSON answer; a stream the run's stop cut proves nothing", async () => {
    const url = await fakeApp({
      workers: 2,
      sharedStreams: true,
      behave: (text) =>
        text.startsWith("[c1 ") ? "refuse" : text.startsWith("[c2 ") ? "hang" : "stream",
    });
    const load = await runLoad(
      options(url, {
        conversations: 2,
        turns: 1,
        workers: 2,
        disconnect: undefined,
        maxSeconds: 1,
      }),
    );
    const [refused, hung] = [1, 2].map((n) => load.turns.find((t) => t.text.startsWith(`[c${n} `)));
    expect(refused).toMatchObject({ outcome: "failed", status: 409 });
    expect(refused?.streams).toBeUndefined();
    expect(load.errorAnswers).toMatchObject([{ status: 409, code: "conversation_busy" }]);
    expect(load.timedOut).toBe(true);
    expect(hung?.outcome).toBe("unknown");
    expect(hung?.streams?.[0]?.cut).toBe("run-stopped");
    expect(checkRun(load).totals.streamGap).toBe(0);
  });
});
