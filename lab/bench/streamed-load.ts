import { randomBytes } from "node:crypto";
import { Agent } from "node:http";
import { percentile } from "../stats.ts";
import { postStreamedTurn, type StreamedTurnTiming } from "./streamed-turn.ts";

export interface StreamedLoadShape {
  /** Streamed turns measured, each the first of a new conversation (so every reply is alike). */
  turns: number;
  /** Keep-alive connections sending them at the same time, each pinned to one worker. */
  connections: number;
  /** The user text of every turn. */
  text: string;
}

/** Time to first delta and to done of one load's turns: p50 and p99, in ms. */
export interface StreamedLoadRun {
  turns: number;
  /** Turns not answered 200 with a done event (left out of the percentiles). */
  failed: number;
  durationMs: number;
  firstDeltaP50Ms: number;
  firstDeltaP99Ms: number;
  doneP50Ms: number;
  doneP99Ms: number;
}

/**
 * `shape.turns` streamed turns over `shape.connections` keep-alive connections, each sending
 * its next turn once the last one's stream has ended. The cluster hands each new connection
 * to the next worker, so the connections spread evenly over the workers. Each connection
 * first sends one turn that is not measured: it loads the scripts on its worker's Redis
 * connection and opens the worker's reader connections, as a running app has them.
 */
export async function runStreamedLoad(
  appUrl: string,
  token: string,
  shape: StreamedLoadShape,
): Promise<StreamedLoadRun> {
  const tag = `sl-${randomBytes(4).toString("hex")}`;
  const agents = Array.from(
    { length: shape.connections },
    () => new Agent({ keepAlive: true, maxSockets: 1 }),
  );
  const send = (agent: Agent, conversationId: string) =>
    postStreamedTurn({ appUrl, token, conversationId, text: shape.text, agent });
  try {
    await Promise.all(agents.map((agent, i) => send(agent, `${tag}-warm-${i}`)));
    const timings: StreamedTurnTiming[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      agents.map(async (agent) => {
        while (next < shape.turns) {
          const i = next++;
          timings.push(await send(agent, `${tag}-${i}`));
        }
      }),
    );
    return summarize(timings, performance.now() - started);
  } finally {
    for (const agent of agents) agent.destroy();
  }
}

function summarize(timings: readonly StreamedTurnTiming[], durationMs: number): StreamedLoadRun {
  const done = timings.filter((t) => t.status === 200 && t.end === "done");
  const firstDelta = done.map((t) => t.firstDeltaMs ?? Number.NaN);
  const toDone = done.map((t) => t.doneMs ?? Number.NaN);
  return {
    turns: timings.length,
    failed: timings.length - done.length,
    durationMs,
    firstDeltaP50Ms: percentile(firstDelta, 50),
    firstDeltaP99Ms: percentile(firstDelta, 99),
    doneP50Ms: percentile(toDone, 50),
    doneP99Ms: percentile(toDone, 99),
  };
}
