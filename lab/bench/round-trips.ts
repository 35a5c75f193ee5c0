import { randomBytes } from "node:crypto";
import type { TurnResponse } from "../../service/contract.ts";
import { requestJson } from "../load/http-json.ts";
import { type SeenCommand, watchCommands } from "../processes/redis-monitor.ts";
import { round } from "../stats.ts";
import { type BenchEnvironment, CONTENDERS, type Contender } from "./bench-apps.ts";

export interface RoundTripsRow {
  label: string;
  turns: number;
  /** Commands clients sent about the conversation, per turn (a Lua script call is one). */
  roundTripsPerTurn: number;
  /** The commands of one turn, in order: what the count is made of. */
  sample: string[];
}

/**
 * Counts the Redis round trips of a turn with MONITOR: every command a client sends shows
 * up once (commands run inside a Lua script are not counted), filtered to the conversation
 * the turns are about, so health checks and other traffic do not count.
 */
export async function measureRoundTrips(
  env: BenchEnvironment,
  turns = 20,
  contenders: readonly Contender[] = CONTENDERS,
): Promise<RoundTripsRow[]> {
  const rows: RoundTripsRow[] = [];
  for (const contender of contenders) {
    const app = env.apps.get(contender.label);
    if (!app) continue;
    const conversationId = `rt-${randomBytes(4).toString("hex")}`;
    const url = env.redisUrls.get(contender.label) ?? env.redis.url;
    const watcher = await watchCommands(url, (args) =>
      args.some((a) => a.includes(`:${conversationId}}`)),
    );
    const perTurn: SeenCommand[][] = [];
    try {
      for (let i = 0; i < turns; i++) {
        const { commands } = await watcher.during(() =>
          postTurn(env, app.url, conversationId, `round trip ${i}`, contender.label),
        );
        perTurn.push(commands);
      }
    } finally {
      watcher.stop();
    }
    rows.push({
      label: contender.label,
      turns,
      roundTripsPerTurn: round(perTurn.reduce((n, commands) => n + commands.length, 0) / turns, 2),
      sample: (perTurn.at(-1) ?? []).map(describeCommand),
    });
  }
  return rows;
}

/** One turn of the bench token's conversation; throws unless it is answered 200. */
export async function postTurn(
  env: BenchEnvironment,
  appUrl: string,
  conversationId: string,
  text: string,
  label: string,
): Promise<TurnResponse> {
  const res = await requestJson(`${appUrl}/conversations/${conversationId}/turns`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.token}`, "content-type": "application/json" },
    body: JSON.stringify({ text }),
  });
  if (res.status !== 200) throw new Error(`${label}: turn answered ${res.status}`);
  return res.body as TurnResponse;
}

/**
 * "evalsha acquireTurn" rather than a 40-character hash (watchCommands has named it); "xread
 * block" for a reader waiting for the next event, apart from one reading what is there.
 */
export function describeCommand([command = "", script = "", ...rest]: SeenCommand): string {
  if (command === "evalsha") return `evalsha ${script}`;
  if (command === "eval") return "eval (script)";
  if (command === "xread" && [script, ...rest].some((a) => a.toLowerCase() === "block")) {
    return "xread block";
  }
  return command;
}
