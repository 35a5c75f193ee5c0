import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";

/** Bytes that crossed a Redis's sockets, both ways. */
export interface Traffic {
  /** Bytes clients sent to Redis (requests: commands, their arguments, scripts' arguments). */
  sent: number;
  /** Bytes Redis sent to clients (replies, and published messages to any subscriber). */
  received: number;
}

/** How long a MONITOR client that was just closed may take to leave the server. */
const MONITOR_GONE_MS = 5000;

/**
 * The bytes every client exchanged with the Redis at `url` while `action` ran, from the
 * deltas of INFO stats' total_net_input_bytes and total_net_output_bytes (replication is
 * counted apart by Redis, so replicas do not count). The counters are server-wide: the Redis
 * must serve nothing else meanwhile (no load, no other app's turns, no MONITOR, whose feed is
 * output), which is why this first waits for any MONITOR client to be gone.
 * The two INFO calls' own bytes are taken out exactly: Redis counts a request when it reads
 * it (so the second call's request is in the delta, the first's is not) and a reply when it
 * writes it (so the first call's reply is in the delta, the second's is not). This client
 * speaks RESP2 so that the reply's framing is known; the apps speak what they speak.
 */
export async function trafficDuring<T>(
  url: string,
  action: () => Promise<T>,
): Promise<{ result: T; traffic: Traffic }> {
  const client = new Redis(url, { protocol: 2 });
  try {
    await untilNoMonitor(client);
    const before = await infoStats(client);
    const result = await action();
    const after = await infoStats(client);
    const traffic = {
      sent: after.input - before.input - INFO_STATS_REQUEST_BYTES,
      received: after.output - before.output - before.replyBytes,
    };
    return { result, traffic };
  } finally {
    client.disconnect();
  }
}

/** `INFO stats` as RESP: `*2\r\n$4\r\ninfo\r\n$5\r\nstats\r\n`. */
const INFO_STATS_REQUEST_BYTES = 25;

async function infoStats(client: Redis) {
  const reply = await client.info("stats");
  const counter = (name: string) => Number(reply.match(new RegExp(`${name}:(\\d+)`))?.[1]);
  const body = Buffer.byteLength(reply);
  return {
    input: counter("total_net_input_bytes"),
    output: counter("total_net_output_bytes"),
    // A RESP2 bulk string: `$<length>\r\n<body>\r\n`.
    replyBytes: `$${body}\r\n`.length + body + 2,
  };
}

/** Waits until no client of the server is in MONITOR (flag O): its feed would count as output. */
async function untilNoMonitor(client: Redis): Promise<void> {
  const deadline = Date.now() + MONITOR_GONE_MS;
  for (;;) {
    const clients = String(await client.call("CLIENT", "LIST"));
    if (!/ flags=\w*O/.test(clients)) return;
    if (Date.now() > deadline) throw new Error("a MONITOR client is still connected");
    await sleep(20);
  }
}
