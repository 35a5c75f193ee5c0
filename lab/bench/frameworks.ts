import { randomBytes } from "node:crypto";
import {
  type BenchEnvironment,
  type Contender,
  contenderOf,
  FRAMEWORK_CONTENDERS,
  FRAMEWORK_REFERENCE,
} from "./bench-apps.ts";
import { type GrowthRow, measureGrowth } from "./growth.ts";
import { type Traffic, trafficDuring } from "./redis-traffic.ts";
import { measureRoundTrips, postTurn, type RoundTripsRow } from "./round-trips.ts";
import {
  measureRounds,
  type RoundsRow,
  ratiosTo,
  roundedRow,
  type ThroughputOptions,
} from "./throughput.ts";
import { measureTurnWrites, type TurnWritesRow } from "./turn-writes.ts";

/** A framework app's medians; a fixed app's ratios are to its broken twin (a broken one's: 1). */
export interface FrameworkThroughputRow extends RoundsRow {
  twin?: string;
  throughputRatio: number;
  p99Ratio: number;
}

/** A framework app's cost per turn: what it sends to Redis and how much. */
export interface FrameworkCostRow extends RoundTripsRow {
  /** Mean Redis bytes of one turn, both ways, over `turns` sequential turns. */
  bytesPerTurn: Traffic;
}

export interface FrameworksResult {
  throughput: FrameworkThroughputRow[];
  cost: FrameworkCostRow[];
  writes: TurnWritesRow[];
  growth: GrowthRow[];
}

/** The fixed framework apps, whose growth is measured next to the reference app's. */
export const FRAMEWORK_GROWTH_LABELS = [
  FRAMEWORK_REFERENCE,
  ...FRAMEWORK_CONTENDERS.filter((c) => c.app === "fixed").map((c) => c.label),
];

/** The four sections of `frameworks`, in order; `note` says what is being measured. */
export async function measureFrameworks(
  env: BenchEnvironment,
  options: ThroughputOptions & { note: (message: string) => void },
): Promise<FrameworksResult> {
  const throughput = await measureFrameworkThroughput(env, options);
  options.note("frameworks: Redis round trips and bytes per turn");
  const cost = await measureFrameworkCost(env);
  options.note("frameworks: what one turn writes, in process");
  const writes = await measureTurnWrites(env.redis.url);
  options.note("frameworks: preloading histories of 10 ... 10,000 messages");
  const growth = await measureGrowth(env, FRAMEWORK_GROWTH_LABELS);
  return { throughput, cost, writes, growth };
}

/**
 * The four framework apps under the main table's load, interleaved over the same rounds;
 * each fixed app's ratios are to its own broken twin, not to the main table's broken app.
 */
export async function measureFrameworkThroughput(
  env: BenchEnvironment,
  options: ThroughputOptions,
): Promise<FrameworkThroughputRow[]> {
  const rows = await measureRounds(env, FRAMEWORK_CONTENDERS, options);
  return rows.map((row) => {
    const { twin } = contenderOf(row.label);
    const base = twin ? rows.find((r) => r.label === twin) : row;
    return { ...roundedRow(row), twin, ...ratiosTo(row, base) };
  });
}

/**
 * Round trips (MONITOR) and bytes (INFO stats) of one turn of each framework app and of the
 * reference app. The bytes come first: MONITOR's feed would count as Redis output.
 */
export async function measureFrameworkCost(
  env: BenchEnvironment,
  turns = 10,
): Promise<FrameworkCostRow[]> {
  const contenders = [contenderOf(FRAMEWORK_REFERENCE), ...FRAMEWORK_CONTENDERS].filter((c) =>
    env.apps.has(c.label),
  );
  const bytes = new Map<string, Traffic>();
  for (const contender of contenders) {
    bytes.set(contender.label, await measureTurnBytes(env, contender, turns));
  }
  const trips = await measureRoundTrips(env, turns, contenders);
  return trips.map((row) => ({
    ...row,
    bytesPerTurn: bytes.get(row.label) ?? { sent: 0, received: 0 },
  }));
}

/** Turns whose bytes are not counted: they load the scripts and start the conversation. */
const WARM_UP_TURNS = 2;

/**
 * Mean Redis bytes of a turn (turns 3 to 2 + `turns` of a new conversation), sequential, on
 * the contender's Redis while nothing else uses it (see trafficDuring).
 */
async function measureTurnBytes(
  env: BenchEnvironment,
  contender: Contender,
  turns: number,
): Promise<Traffic> {
  const app = env.apps.get(contender.label);
  if (!app) throw new Error(`${contender.label} is not running`);
  const conversationId = `bytes-${randomBytes(4).toString("hex")}`;
  const turn = (i: number) => postTurn(env, app.url, conversationId, `turn ${i}`, contender.label);
  for (let i = 0; i < WARM_UP_TURNS; i++) await turn(i);
  const url = env.redisUrls.get(contender.label) ?? env.redis.url;
  const { traffic } = await trafficDuring(url, async () => {
    for (let i = WARM_UP_TURNS; i < WARM_UP_TURNS + turns; i++) await turn(i);
  });
  return {
    sent: Math.round(traffic.sent / turns),
    received: Math.round(traffic.received / turns),
  };
}
