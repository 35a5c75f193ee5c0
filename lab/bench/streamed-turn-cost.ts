import { randomBytes } from "node:crypto";
import { Agent } from "node:http";
import { type SeenCommand, watchCommands } from "../processes/redis-monitor.ts";
import type { BenchEnvironment } from "./bench-apps.ts";
import { type Traffic, trafficDuring } from "./redis-traffic.ts";
import { describeCommand } from "./round-trips.ts";
import { postJsonTurn, postStreamedTurn, type StreamedTurnTiming } from "./streamed-turn.ts";

/** One turn's commands, counted by kind in the order each kind first came. */
export type CommandTally = Record<string, number>;

/** What a streamed turn costs in Redis, from sequential turns on a quiet machine. */
export interface StreamedTurnCost {
  /** Delta events each turn's client received (the same for every turn, else it throws). */
  deltas: number;
  /** Mean commands clients sent about the conversation per turn (a Lua script call is one). */
  commandsPerTurn: number;
  /** Of those, the ones naming the turn's stream (appends, reads, state checks). */
  streamCommandsPerTurn: number;
  /** Each watched turn's commands, counted. */
  tallies: CommandTally[];
  /** Mean bytes per turn to and from Redis, every client of it, reads included. */
  bytesPerTurn: Traffic;
  /** The byte-counted turns' times to first delta and to done, one at a time, in ms. */
  firstDeltaMs: number[];
  doneMs: number[];
}

export interface TurnCostOptions {
  /** The same turns answered as JSON (no `Accept: text/event-stream`): what the stream adds to. */
  asJson?: boolean;
  /** Turns whose bytes are counted (and timed). */
  countedTurns: number;
  /** Turns watched with MONITOR (apart: MONITOR's feed would count as bytes). */
  watchedTurns: number;
  text: string;
}

/** Turns sent first and not counted: they load the scripts and open a reader connection. */
const WARM_UP_TURNS = 2;
/** Short: a warm-up needs a turn, not a long reply. */
const WARM_UP_TEXT = "warm up";

/**
 * Sequential streamed turns on one app, each the first of a new conversation, over one
 * keep-alive connection (so one worker, warmed up first): bytes from INFO stats over the
 * counted turns while nothing else uses that Redis, then each watched turn's commands with
 * MONITOR (as round-trips.ts counts them), the reader's XREADs included.
 */
export async function measureStreamedTurnCost(
  env: BenchEnvironment,
  label: string,
  options: TurnCostOptions,
): Promise<StreamedTurnCost> {
  const turns = new SequentialTurns(env, label, options.text, options.asJson === true);
  try {
    for (let i = 0; i < WARM_UP_TURNS; i++) await turns.send(`warm-${i}`, WARM_UP_TEXT);
    const url = env.redisUrls.get(label) ?? env.redis.url;
    const counted: StreamedTurnTiming[] = [];
    const { traffic } = await trafficDuring(url, async () => {
      for (let i = 0; i < options.countedTurns; i++) counted.push(await turns.send(`count-${i}`));
    });
    const watched = await watchTurns(url, turns, options.watchedTurns);
    return {
      deltas: sameDeltas(label, [...counted, ...watched.timings]),
      ...commandCounts(watched.commands),
      bytesPerTurn: {
        sent: Math.round(traffic.sent / options.countedTurns),
        received: Math.round(traffic.received / options.countedTurns),
      },
      firstDeltaMs: counted.map((t) => t.firstDeltaMs ?? Number.NaN),
      doneMs: counted.map((t) => t.doneMs ?? Number.NaN),
    };
  } finally {
    turns.close();
  }
}

/** One app's turns, one at a time on one connection, each on a conversation of its own. */
class SequentialTurns {
  readonly tag = `st-${randomBytes(4).toString("hex")}`;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly appUrl: string;

  constructor(
    private readonly env: BenchEnvironment,
    private readonly label: string,
    private readonly text: string,
    private readonly asJson: boolean,
  ) {
    const app = env.apps.get(label);
    if (!app) throw new Error(`${label} is not running`);
    this.appUrl = app.url;
  }

  /** One turn; throws unless it was answered (streamed to its done event, or as JSON). */
  async send(name: string, text = this.text): Promise<StreamedTurnTiming> {
    const turn = {
      appUrl: this.appUrl,
      token: this.env.token,
      conversationId: `${this.tag}-${name}`,
      text,
      agent: this.agent,
    };
    const timing = this.asJson ? await postJsonTurn(turn) : await postStreamedTurn(turn);
    if (timing.status !== 200 || timing.end !== "done") {
      throw new Error(`${this.label}: turn answered ${timing.status}, ended ${timing.end}`);
    }
    return timing;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Each turn under MONITOR, keeping the commands that name its conversation. */
async function watchTurns(url: string, turns: SequentialTurns, count: number) {
  const watcher = await watchCommands(url, (args) =>
    args.some((a) => a.includes(`:${turns.tag}-watch-`)),
  );
  const commands: SeenCommand[][] = [];
  const timings: StreamedTurnTiming[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const { result, commands: seen } = await watcher.during(() => turns.send(`watch-${i}`));
      commands.push(seen);
      timings.push(result);
    }
  } finally {
    watcher.stop();
  }
  return { commands, timings };
}

/** A command about the turn's stream: it names the stream's key. */
export function isStreamCommand(args: readonly string[]): boolean {
  return args.some((a) => a.includes("}:stream:"));
}

function commandCounts(perTurn: readonly SeenCommand[][]) {
  const turns = Math.max(1, perTurn.length);
  const all = perTurn.flat();
  return {
    commandsPerTurn: all.length / turns,
    streamCommandsPerTurn: all.filter(isStreamCommand).length / turns,
    tallies: perTurn.map(tally),
  };
}

/** ["a", "b", "a"] described and counted: { a: 2, b: 1 }. */
export function tally(commands: readonly SeenCommand[]): CommandTally {
  const counts: CommandTally = {};
  for (const command of commands) {
    const name = describeCommand(command);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** The deltas every turn got: replies of one text are alike, so a turn that differs is a bug. */
function sameDeltas(label: string, timings: readonly StreamedTurnTiming[]): number {
  const counts = new Set(timings.map((t) => t.deltas));
  if (counts.size !== 1) throw new Error(`${label}: turns got ${[...counts].join(", ")} deltas`);
  return timings[0]?.deltas ?? 0;
}
