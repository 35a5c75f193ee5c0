import { Redis } from "ioredis";
import { scriptNamesBySha } from "../../service/store/commands.ts";

/** How long MONITOR may take to show a marker: generous, never expected. */
const MARKER_TIMEOUT_MS = 30_000;

/** A command as MONITOR showed it, with a script's SHA replaced by its name (EVALSHA loadRecent). */
export type SeenCommand = string[];

/**
 * Records, with MONITOR, the commands clients send to a Redis (not those a Lua script runs
 * inside itself, which cost no round trip), so a test or the bench can count exactly what an
 * action sent; `keep` narrows them (e.g. to one conversation's keys).
 */
export async function watchCommands(url: string, keep: (args: string[]) => boolean = () => true) {
  const client = new Redis(url);
  // Ready first: ioredis marks a connection as monitoring only once MONITOR's OK is handled,
  // so a line arriving with that OK (this client's own ready check, INFO) would be taken for a
  // reply to no command ("Command queue state error", an unhandled error event).
  await client.ping();
  const monitor = await client.monitor();
  const scripts = scriptNamesBySha();
  let seen: SeenCommand[] = [];
  let marker: { text: string; arrived(): void } | undefined;
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    if (marker && args[0]?.toLowerCase() === "echo" && args[1] === marker.text) marker.arrived();
    else if (source !== "lua" && keep(args)) seen.push(named(args, scripts));
  });

  /**
   * MONITOR lines arrive later than the answers, but in the order Redis ran the commands: once
   * an ECHO sent after the action shows up, so has every command of the action.
   */
  async function allShown(): Promise<void> {
    const text = `watch-commands marker ${Date.now()} ${Math.random()}`;
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<void>((resolve, reject) => {
      marker = { text, arrived: resolve };
      timer = setTimeout(
        () => reject(new Error(`MONITOR never showed "${text}"`)),
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
  }

  return {
    /** Runs `action`; resolves with its result and every command Redis ran for it, in order. */
    async during<T>(action: () => Promise<T>): Promise<{ result: T; commands: SeenCommand[] }> {
      await allShown();
      seen = [];
      const result = await action();
      await allShown();
      return { result, commands: seen };
    },
    stop(): void {
      monitor.disconnect();
      client.disconnect();
    },
  };
}

function named(args: string[], scripts: Map<string, string>): SeenCommand {
  const [command = "", sha = "", ...rest] = args;
  const lower = command.toLowerCase();
  if (lower !== "evalsha") return [lower, ...args.slice(1)];
  return [lower, scripts.get(sha) ?? sha, ...rest];
}
