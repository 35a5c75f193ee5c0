import { randomBytes } from "node:crypto";
import { requestJson } from "../load/http-json.ts";
import { type SeenCommand, watchCommands } from "../processes/redis-monitor.ts";
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

/**
 * Counts the Redis round trips of a turn with MONITOR: every command a client sends shows
 * up once (commands run inside a Lua script are not counted), filtered to the conversation
 * the turns are about, so health checks and other traffic do not count.
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
    const url = env.redisUrls.get(contender.label) ?? env.redis.url;
    const watcher = await watchCommands(url, (args) =>
      args.some((a) => a.includes(`:${conversationId}}`)),
    );
    const perTurn: SeenCommand[][] = [];
    try {
      for (let i = 0; i < turns; i++) {
        const { result: res, commands } = await watcher.during(() =>
          requestJson(`${app.url}/conversations/${conversationId}/turns`, {
            method: "POST",
            headers: { authorization: `Bearer ${env.token}`, "content-type": "application/json" },
            body: JSON.stringify({ text: `round trip ${i}` }),
          }),
        );
        if (res.status !== 200) throw new Error(`${contender.label}: turn answered ${res.status}`);
        perTurn.push(commands);
      }
    } finally {
      watcher.stop();
    }
    rows.push({
      label: contender.label,
      turns,
      roundTripsPerTurn: round(perTurn.reduce((n, commands) => n + commands.length, 0) / turns, 2),
      sample: (perTurn.at(-1) ?? []).map(describe),
    });
  }
  return rows;
}

/** "evalsha acquireTurn" rather than a 40-character hash (watchCommands has named it). */
function describe([command = "", script = ""]: SeenCommand): string {
  if (command === "evalsha") return `evalsha ${script}`;
  if (command === "eval") return "eval (script)";
  return command;
}
