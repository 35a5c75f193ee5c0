import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkRun } from "../../lab/check/checker.ts";
import type { FinalRead, TurnRecord, TurnStream } from "../../lab/load/records.ts";
import { type LoadResult, runLoad } from "../../lab/load/run-load.ts";
import { requestEvents } from "../../lab/load/sse-request.ts";
import { type ScenarioApps, startScenarioApps } from "../../lab/processes/scenario-apps.ts";
import type { AppName } from "../../scenarios/catalogue.ts";
import { issueToken } from "../../service/auth/tokens.ts";
import { DEV_AUTH_SECRET } from "../../service/config.ts";
import { hops } from "../helpers/turn-routing.ts";

// The issue's "Done when": 4 workers, default settings, every streamed turn dropped after 2
// deltas and resumed on a fresh connection to another worker.
const load = { conversations: 12, turns: 6 };
const everyTurn = load.conversations * load.turns;
const token = issueToken({ tenant: "workshop", user: `stream-${process.pid}` }, DEV_AUTH_SECRET);
const started: ScenarioApps[] = [];
afterEach(async () => {
  for (const apps of started.splice(0)) await apps.stop();
});

/** The streaming scenario's app on 4 workers (its own private Redis), and the issue's load. */
async function dropEveryTurn(app: AppName): Promise<{ url: string; run: LoadResult }> {
  const apps = await startScenarioApps({
    app,
    scenario: "streaming",
    workers: 4,
    logFile: () => join(tmpdir(), "agent-sandbox-test-logs", `streaming-${app}-${Date.now()}.log`),
    env: { AUTH_SECRET: DEV_AUTH_SECRET },
  });
  started.push(apps);
  const url = apps.clusters[0]?.url ?? "";
  const run = await runLoad({
    url,
    token,
    ...load,
    connections: 8,
    workers: 4,
    sticky: false,
    overlap: 1,
    retryRate: 0,
    seed: 11,
    timeoutSeconds: 10,
    maxSeconds: 60,
    progress: false,
    stream: true,
    disconnect: { rate: 1, afterDeltas: 2 },
  });
  return { url, run };
}

const idsOf = (events: { id: number }[]) => events.map((event) => event.id);
const textOf = (events: { text?: string }[]) => events.map((event) => event.text ?? "").join("");

/** The turn's assistant message in each final read of its conversation. */
function storedReplies(reads: FinalRead[], turn: TurnRecord): string[] {
  return reads
    .filter((read) => read.conversationId === turn.conversationId && read.ok)
    .map((read) => read.messages.filter((m) => m.turnId === turn.turnId && m.role === "assistant"))
    .map((found) =>
      found.length === 1 ? (found[0]?.content ?? "") : `stored ${found.length} times`,
    );
}

/** GET .../stream without Last-Event-ID, once the turn is done: the whole stream again. */
async function replay(url: string, turn: TurnRecord) {
  return requestEvents({
    url: `${url}/conversations/${turn.conversationId}/turns/${turn.turnId}/stream`,
    method: "GET",
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream", connection: "close" },
    agent: false,
    timeoutMs: 10_000,
    signal: new AbortController().signal,
  });
}

describe("streamed turns dropped after 2 deltas and resumed on another worker (4 workers)", () => {
  it("fixed: the rest of every stream, once, from another worker; text = done = stored; replay whole", async () => {
    const { url, run } = await dropEveryTurn("fixed");
    const check = checkRun(run);
    expect(check.anomalies).toEqual([]);
    expect(check.verdict).toBe("valid");
    expect(check.totals).toMatchObject({
      acknowledged: everyTurn,
      streamedTurns: everyTurn,
      streamsDropped: everyTurn,
      resumes: everyTurn,
      resumesCrossedWorkers: everyTurn,
    });
    expect(hops(run.turns)).toBe(load.conversations * (load.turns - 1));
    for (const turn of run.turns) {
      const stream = turn.streams?.[0] as TurnStream;
      const [resume] = stream.resumes;
      expect(idsOf(stream.events)).toEqual([1, 2]);
      expect(resume).toMatchObject({ lastEventId: 2, status: 200, crossedWorkers: true });
      expect(resume?.worker?.pid).not.toBe(stream.producer?.pid);
      // Exactly the remaining events: 3, 4, ..., done; no gap, no repeat.
      const rest = idsOf(resume?.events ?? []);
      expect(rest).toEqual(Array.from({ length: rest.length }, (_, i) => i + 3));
      expect(resume?.events.at(-1)?.type).toBe("done");
      const joined = textOf([...stream.events, ...(resume?.events ?? [])]);
      expect(joined).toBe(stream.done?.reply);
      // Stored once, and what was stored is what was streamed, in every worker's read.
      expect(storedReplies(run.reads, turn)).toEqual(Array(8).fill(joined));
    }
    for (const turn of run.turns.slice(0, 12)) {
      const again = await replay(url, turn);
      expect(again.status).toBe(200);
      expect(again.end?.type).toBe("done");
      expect(textOf(again.events)).toBe(turn.reply);
    }
  });

  it("broken: the same run fails with stream-gap, every resume refused by another worker", async () => {
    const { run } = await dropEveryTurn("broken");
    const check = checkRun(run);
    expect(check.verdict).toBe("invalid");
    expect(check.totals).toMatchObject({
      streamGap: everyTurn,
      streamDuplicate: 0,
      streamMismatch: 0,
      lost: 0,
      acknowledged: 0,
      resumesCrossedWorkers: everyTurn,
    });
    expect(new Set(check.anomalies.map((a) => a.kind))).toEqual(new Set(["stream-gap"]));
    for (const turn of run.turns) {
      expect(turn.streams?.[0]?.resumes[0]).toMatchObject({ status: 404, code: "not_found" });
      // The turn was stored all the same (a read found it), so its conversation went on.
      expect(turn.streams?.[0]?.lookedUp?.found).toBe(true);
    }
    expect(hops(run.turns)).toBe(load.conversations * (load.turns - 1));
  });
});
