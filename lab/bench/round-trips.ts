import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { scriptNamesBySha } from "../../service/store/commands.ts";
import { requestJson } from "../load/http-json.ts";
import { round } from "../stats.ts";
import type { BenchEnvironment } from "./bench-apps.ts";
import { CONTENDERS } from "./bench-apps.ts";

export interface RoundTripsRow {
  label: string;
  turns: number;
  /** Commands clients sent about the conversation, per turn (a Lua script call is one). */
  roundTripsPerTurn: number;
  /** The commands of one turn, in order: what the count is made of. */
  sample: string[];
}

/** How long a turn's marker may take to come through MONITOR: generous, never expected. */
const MARKER_TIMEOUT_MS = 30_000;

/**
 * Counts the Redis round trips of a turn with MONITOR: every command a client sends shows
 * up once (commands run inside a Lua script are marked "lua" and not counted), filtered to
 * the conversation the turns are about, so health checks and other traffic do not count.
 */
export async function measureRoundTrips(
  env: BenchEnvironment,
  turns = 20,
): Promise<RoundTripsRow[]> {
  const rows: RoundTripsRow[] = [];
  for (const contender of CONTENDERS) {
    const app = env.apps.get(contender.label);
    if (!app) continue;
    const conversationId = `rt-${randomBytes(4).toString("hex")}`;
    const seen: string[][] = [];
    const client = new Redis(env.redisUrls.get(contender.label) ?? env.redis.url);
    const monitor = await client.monitor();
    let marker: { text: string; arrived(): void } | undefined;
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      if (marker && args[0]?.toLowerCase() === "echo" && args[1] === marker.text) marker.arrived();
      else if (source !== "lua" && args.some((a) => a.includes(`:${conversationId}}`)))
        seen.push(args);
    });
    /**
     * MONITOR lines arrive asynchronously, but in the order Redis ran the commands. The app
     * runs a turn's commands before it answers, so once an ECHO sent after the answer shows
     * up, every line of the turn has too: wait for that (with a deadline), not for a guess.
     */
    const allLinesOf = async (turn: number) => {
      const text = `round-trips marker ${conversationId} ${turn}`;
      let timer: NodeJS.Timeout | undefined;
      const arrived = new Promise<void>((resolve, reject) => {
        marker = { text, arrived: resolve };
        timer = setTimeout(
          () => reject(new Error(`${contender.label}: MONITOR never showed "${text}"`)),
          MARKER_TIMEOUT_MS,
        );
      });
      try {
        await client.echo(text);
        await arrived;
      } finally {
        clearTimeout(timer);
        marker = undefined;
      }
    };
    const perTurn: number[] = [];
    try {
      for (let i = 0; i < turns; i++) {
        const before = seen.length;
        const res = await requestJson(`${app.url}/conversations/${conversationId}/turns`, {
          method: "POST",
          headers: { authorization: `Bearer ${env.token}`, "content-type": "application/json" },
          body: JSON.stringify({ text: `round trip ${i}` }),
        });
        if (res.status !== 200) throw new Error(`${contender.label}: turn answered ${res.status}`);
        await allLinesOf(i);
        perTurn.push(seen.length - before);
      }
    } finally {
      monitor.disconnect();
      client.disconnect();
    }
    const sample = seen.slice(-(perTurn.at(-1) ?? 0)).map((args) => describe(args));
    rows.push({
      label: contender.label,
      turns,
      roundTripsPerTurn: round(perTurn.reduce((a, b) => a + b, 0) / turns, 2),
      sample,
    });
  }
  return rows;
}

const SCRIPT_NAMES = scriptNamesBySha();

/** "evalsha acquireTurn" rather than a 40-character hash. */
function describe(args: string[]): string {
  const [command = "", first = ""] = args;
  const name = command.toLowerCase();
  if (name === "evalsha") return `evalsha ${SCRIPT_NAMES.get(first) ?? first.slice(0, 8)}`;
  if (name === "eval") return "eval (script)";
  return name;
}
