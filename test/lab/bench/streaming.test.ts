import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BenchEnvironment,
  type Contender,
  type StreamingSettings,
  startBenchApps,
  streamingContender,
} from "../../../lab/bench/bench-apps.ts";
import { runStreamedLoad } from "../../../lab/bench/streamed-load.ts";
import { textForReplyOf } from "../../../lab/bench/streamed-turn.ts";
import { measureStreamedTurnCost } from "../../../lab/bench/streamed-turn-cost.ts";
import { measureStreamGrowth, tallyText } from "../../../lab/bench/streaming.ts";

// A slow model: 100 ms between two words is far longer than a write's round trip, so each delta
// is its own write and each of the reader's XREAD BLOCKs wakes for exactly one event, also
// when a worker stalls for a while on a loaded machine (at 50 ms, a stall could merge two).
const SLOW = 100;

/** A fixed app whose lease outlasts any turn here (renewed every third of it): no renewal is counted. */
const fixedContender = (settings: StreamingSettings): Contender => {
  const contender = streamingContender("fixed", settings);
  return { ...contender, env: { ...contender.env, TURN_LEASE_MS: "60000" } };
};
const BROKEN = streamingContender("broken", { flushMs: 0, chunkDelayMs: SLOW });
const FIXED = fixedContender({ flushMs: 0, chunkDelayMs: SLOW });
const FIXED_FLUSH_250 = fixedContender({ flushMs: 250, chunkDelayMs: SLOW });
const FIXED_BURSTY = fixedContender({ flushMs: 0, chunkDelayMs: 0 });

/** Replies of 12 words: 12 deltas. */
const WORDS = 12;
const TEXT = textForReplyOf(WORDS);

// Counts only (commands, deltas, bytes that must be none): `npm run bench -- --only streaming`
// measures the timings, no test asserts one.
describe("benchmark of streamed turns: what it counts", () => {
  let env: BenchEnvironment;
  const cost = (label: string, watchedTurns = 3) =>
    measureStreamedTurnCost(env, label, { text: TEXT, countedTurns: 2, watchedTurns });

  beforeAll(async () => {
    // A private redis-server: test/setup.ts removes any REDIS_URL the shell exported. The
    // model's 100 ms before its first word keeps the reader's first peek ahead of it.
    const contenders = [BROKEN, FIXED, FIXED_FLUSH_250, FIXED_BURSTY];
    env = await startBenchApps({ workers: 2, agentLatencyMs: SLOW, contenders });
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it("a fixed turn of k deltas, flushed at once, sends 2k + 4 commands: one append and one read per event", async () => {
    const fixed = await cost(FIXED.label);
    expect(fixed.deltas).toBe(WORDS);
    const oneTurn = {
      "evalsha acquireTurn": 1,
      // The stream opened, then each delta on its own.
      "evalsha streamAppend": WORDS + 1,
      // The POST's own reader knows its producer runs: it waits at once, one wait per delta,
      // and one for done (appended by appendTurn with the turn).
      "xread block": WORDS + 1,
      "evalsha appendTurn": 1,
    };
    expect(fixed.tallies).toEqual([oneTurn, oneTurn, oneTurn]);
    expect(fixed.commandsPerTurn).toBe(2 * WORDS + 4);
    // All but acquireTurn name the stream's key: appendTurn appends done to it.
    expect(fixed.streamCommandsPerTurn).toBe(2 * WORDS + 3);
    expect(tallyText(fixed.tallies[0])).toEqual([
      "evalsha acquireTurn",
      `evalsha streamAppend ×${WORDS + 1}`,
      `xread block ×${WORDS + 1}`,
      "evalsha appendTurn",
    ]);
  });

  it("a larger flush interval sends fewer appends and wakes the reader fewer times, every delta still arriving", async () => {
    const batched = await cost(FIXED_FLUSH_250.label);
    expect(batched.deltas).toBe(WORDS);
    for (const tally of batched.tallies) {
      // 11 pauses of 100 ms take 1100 ms: batches of 250 ms, not one write per delta.
      expect(tally["evalsha streamAppend"]).toBeGreaterThanOrEqual(2);
      expect(tally["evalsha streamAppend"]).toBeLessThan(WORDS + 1);
      expect(tally["xread block"]).toBeLessThan(WORDS + 1);
    }
    expect(batched.commandsPerTurn).toBeLessThan(2 * WORDS + 4);
  });

  it("with a model that writes its whole reply at once, flush 0 still coalesces: 3 appends", async () => {
    const bursty = await cost(FIXED_BURSTY.label);
    expect(bursty.deltas).toBe(WORDS);
    // The stream opened, the first delta (written as it came), the rest (queued meanwhile).
    for (const tally of bursty.tallies) expect(tally["evalsha streamAppend"]).toBe(3);
  });

  it("the broken app keeps the stream in worker memory: no stream command reaches Redis", async () => {
    const broken = await cost(BROKEN.label);
    expect(broken.deltas).toBe(WORDS);
    expect(broken.streamCommandsPerTurn).toBe(0);
    // Its history is in Redis all the same (no turn gate: read, then append).
    const oneTurn = { "evalsha loadRecent": 1, "evalsha appendMessages": 1 };
    expect(broken.tallies).toEqual([oneTurn, oneTurn, oneTurn]);
    expect(broken.bytesPerTurn.sent).toBeGreaterThan(0);
  });

  it("the same turn answered as JSON costs the fixed app its 2 round trips", async () => {
    const json = await measureStreamedTurnCost(env, FIXED.label, {
      text: TEXT,
      asJson: true,
      countedTurns: 2,
      watchedTurns: 2,
    });
    expect(json.deltas).toBe(0);
    expect(json.tallies).toEqual([
      { "evalsha acquireTurn": 1, "evalsha appendTurn": 1 },
      { "evalsha acquireTurn": 1, "evalsha appendTurn": 1 },
    ]);
  });

  it("a reply asked for in n words streams n deltas, one append and one wait each", async () => {
    const rows = await measureStreamGrowth(env, {
      labels: [BROKEN.label, FIXED.label],
      growthWords: [10, 20],
    });
    expect(rows.map((r) => r.label)).toEqual([BROKEN.label, FIXED.label]);
    const [broken, fixed] = rows;
    for (const words of [10, 20]) {
      expect(broken?.byWords[words]?.deltas).toBe(words);
      expect(broken?.byWords[words]?.streamCommandsPerTurn).toBe(0);
      expect(fixed?.byWords[words]?.deltas).toBe(words);
      expect(fixed?.byWords[words]?.commandsPerTurn).toBe(2 * words + 4);
    }
  }, 120_000);

  it("the streamed load sends every turn and each streams to done", async () => {
    const run = await runStreamedLoad(env.apps.get(FIXED_BURSTY.label)?.url ?? "", env.token, {
      turns: 12,
      connections: 3,
      text: TEXT,
    });
    expect(run.turns).toBe(12);
    expect(run.failed).toBe(0);
  });
});
