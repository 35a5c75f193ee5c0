import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";

/** The probe's own Redis connections carry this name, so they never count as the app's. */
const PROBE_CLIENT = "exercise-probe";
/** MONITOR lags the replies; an ECHO not shown within this is not waited for any longer. */
const MONITOR_LAG_MS = 5000;

/** A connection of the probe's own, to look at what the app does to Redis. */
export function probeClient(url: string): Redis {
  const client = new Redis(url, { connectionName: PROBE_CLIENT, maxRetriesPerRequest: 0 });
  client.on("error", () => {});
  return client;
}

/** The ids of the clients connected to Redis now, the probe's own left out. */
export async function appClientIds(probe: Redis): Promise<Set<string>> {
  const list = String(await probe.call("CLIENT", "LIST"));
  const ids = list
    .split("\n")
    .filter((line) => /\bid=\d+/.test(line) && /\bname=(\S*)/.exec(line)?.[1] !== PROBE_CLIENT)
    .map((line) => /\bid=(\d+)/.exec(line)?.[1] as string);
  return new Set(ids);
}

/** `LRANGE <key> 0 -1`: the whole list, what `store.load` sends. */
function readsWholeList(args: readonly string[]): boolean {
  return args[0]?.toLowerCase() === "lrange" && args[2] === "0" && args[3] === "-1";
}

export interface WholeListReads {
  /** How many whole lists Redis has read since the watch began (sent or run by a script). */
  count(): Promise<number>;
  stop(): void;
}

/** Watches Redis (MONITOR) for reads of a whole history. */
export async function watchWholeListReads(url: string): Promise<WholeListReads> {
  const probe = probeClient(url);
  const monitor = await probe.monitor();
  let reads = 0;
  let echoed: (text: string) => void = () => {};
  monitor.on("monitor", (_time: string, args: string[]) => {
    if (readsWholeList(args)) reads++;
    if (args[0]?.toLowerCase() === "echo") echoed(args[1] ?? "");
  });
  return {
    // MONITOR shows commands in the order Redis ran them: once an ECHO sent now shows, every
    // command before it has been counted.
    async count() {
      const text = `${PROBE_CLIENT} ${Date.now()}`;
      const shown = new Promise<void>((resolve) => {
        echoed = (seen) => {
          if (seen === text) resolve();
        };
      });
      await probe.echo(text);
      await Promise.race([shown, sleep(MONITOR_LAG_MS, undefined, { ref: false })]);
      return reads;
    },
    stop() {
      monitor.disconnect();
      probe.disconnect();
    },
  };
}
