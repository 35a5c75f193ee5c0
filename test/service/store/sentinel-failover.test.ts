import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AppCluster,
  startAppCluster,
  waitForStore,
} from "../../../lab/processes/app-cluster.ts";
import { askRedis } from "../../../lab/processes/ask-redis.ts";
import {
  type RedisAddress,
  type RedisSentinelHandle,
  startRedisSentinel,
} from "../../../lab/processes/redis-sentinel.ts";
import { conversationKey } from "../../../service/auth/conversation-key.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import type { ChatMessage, ErrorResponse, TurnResponse } from "../../../service/contract.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import { client } from "../../helpers/http.ts";
import { waitFor, within } from "../../helpers/wait-for.ts";

const SECRET = "sentinel-failover-test-secret";
const IDENTITY = { tenant: "t", user: "u" };
const HOST = "127.0.0.1";
const WORKERS = 2;
/** WAIT's timeout in the app (REDIS_WAIT_MS), set explicitly: test 4 measures against it. */
const WAIT_MS = 500;
/** Where the app clusters' JSON logs go (one file per test), to read after a failure. */
const LOG_DIR = join(process.cwd(), ".runs", "sentinel-failover");

type Http = ReturnType<typeof client>;

/** A Sentinel-run Redis (primary, 2 replicas, 3 sentinels) and the fixed app on it. */
interface SentinelApp {
  lab: RedisSentinelHandle;
  app: AppCluster;
  http: Http;
  logFile: string;
  /** The Redis list holding conversation `id`'s messages. */
  listOf(id: string): string;
}

const at = (port: number) => ({ host: HOST, port });

/** LLEN on one node, on a fresh connection. */
const llen = async (port: number, list: string) => Number(await askRedis(at(port), "LLEN", list));

/** The turnIds of a stored history, in order (a turn stores a user then an assistant message). */
async function turnIdsOn(port: number, list: string): Promise<string[]> {
  const raw = (await askRedis(at(port), "LRANGE", list, "0", "-1")) as string[];
  return raw.map((item) => (JSON.parse(item) as ChatMessage).turnId);
}

/** Each turn stored exactly once: its user and its assistant message, side by side. */
const twice = (...turnIds: string[]) => turnIds.flatMap((id) => [id, id]);

const errorCode = (body: unknown) => (body as Partial<ErrorResponse>)?.error?.code;

/** What one attempt of a turn got: the status and error code, or the transport error. */
const outcome = (status: number, body: unknown) =>
  status === 200 ? "200" : `${status} ${errorCode(body) ?? String(body).slice(0, 80)}`;

interface Served {
  answer: TurnResponse;
  /** When the 200 arrived (Date.now()). */
  at: number;
  /** When the attempt answered 200 was sent. */
  sentAt: number;
  /** Every attempt's outcome, in order, the 200 last. */
  attempts: string[];
}

/**
 * Sends the turn until it is answered 200, always with the same turnId (a 503 may have stored
 * it: the retry is then answered from the store, once replicas have it), pausing briefly
 * between attempts. Gives up at `deadline` naming every attempt's outcome.
 */
async function untilServed(
  http: Http,
  conversation: string,
  turnId: string,
  deadline: number,
): Promise<Served> {
  const attempts: string[] = [];
  for (;;) {
    const sentAt = Date.now();
    const res = await http
      .turn(conversation, { text: `turn ${turnId}`, turnId })
      .catch((error: Error) => ({ status: 0, body: `no answer: ${error.message}` }));
    attempts.push(outcome(res.status, res.body));
    if (res.status === 200)
      return { answer: res.body as TurnResponse, at: Date.now(), sentAt, attempts };
    if (Date.now() >= deadline) {
      throw new Error(`turn ${turnId} not served by the deadline: ${summary(attempts)}`);
    }
    await sleep(100);
  }
}

/** `["503 store_write_uncertain", "503 store_write_uncertain", "200"]` -> `2× 503 ..., 1× 200`. */
function summary(attempts: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const a of attempts) counts.set(a, (counts.get(a) ?? 0) + 1);
  return [...counts].map(([what, n]) => `${n}× ${what}`).join(", ");
}

/** The longest time between two consecutive acknowledgements, in ms. */
function longestGap(served: readonly Served[]): number {
  let longest = 0;
  for (let i = 1; i < served.length; i++) {
    longest = Math.max(longest, (served[i]?.at ?? 0) - (served[i - 1]?.at ?? 0));
  }
  return longest;
}

/** Whether a SET on the node is refused as a replica refuses it (READONLY ...). */
async function refusesWrites(port: number, probeKey: string): Promise<string | false> {
  try {
    await askRedis(at(port), "SET", probeKey, "probe", "EX", "60");
    return false;
  } catch (error) {
    const message = (error as Error).message;
    return message.startsWith("READONLY") ? message : false;
  }
}

describe("the fixed app on Redis Sentinel (real primary, 2 replicas, 3 sentinels, 2 workers)", () => {
  let running: { lab?: RedisSentinelHandle; app?: AppCluster } = {};
  afterEach(async () => {
    await running.app?.stop();
    await running.lab?.stop();
    running = {};
  });

  /** A fresh Sentinel setup and app per test: each test changes who the primary is. */
  async function start(test: string): Promise<SentinelApp> {
    const prefix = `sentinel-failover-test:${test}:${process.pid}:`;
    const logFile = join(LOG_DIR, `${test}-${process.pid}-${Date.now()}.log`);
    const lab = await startRedisSentinel();
    running.lab = lab;
    const app = await startAppCluster({
      app: "fixed",
      scenario: "memory",
      workers: WORKERS,
      logFile,
      env: {
        AUTH_SECRET: SECRET,
        REDIS_KEY_PREFIX: prefix,
        REDIS_SENTINELS: lab.sentinels,
        REDIS_SENTINEL_NAME: lab.name,
        REDIS_WAIT_MS: String(WAIT_MS),
        // A turn cut off mid-failover may leave its lease behind: free again within 2 s.
        TURN_LEASE_MS: "2000",
      },
    });
    running.app = app;
    await waitForStore(app.url, WORKERS);
    return {
      lab,
      app,
      http: client(app.url, issueToken(IDENTITY, SECRET)),
      logFile,
      listOf: (id) => conversationKeys(conversationKey(prefix, IDENTITY, id)).messages,
    };
  }

  it("serves turns through Sentinel; an acknowledged turn is already on a replica, and soon on both", async () => {
    const { lab, http, listOf } = await start("through-sentinel");
    const list = listOf("c1");
    const primary = await lab.primary();
    expect(primary.port).toBe(lab.ports[0]);
    const replicas = lab.ports.filter((port) => port !== primary.port);
    expect(replicas).toHaveLength(2);

    const first = await http.turn("c1", { text: "hello", turnId: "t1" });
    // Right after the 200, no waiting: WAIT 1 answered only once a replica had the write.
    const afterFirst = await Promise.all(replicas.map((port) => llen(port, list)));
    expect(first).toMatchObject({ status: 200, body: { messagesSeen: 1 } });
    expect(Math.max(...afterFirst)).toBe(2);

    const second = await http.turn("c1", { text: "again", turnId: "t2" });
    const afterSecond = await Promise.all(replicas.map((port) => llen(port, list)));
    expect(second).toMatchObject({ status: 200, body: { messagesSeen: 3 } });
    expect(Math.max(...afterSecond)).toBe(4);
    console.log(
      `[sentinel] LLEN on the replicas right after each 200: [${afterFirst.join(", ")}] then [${afterSecond.join(", ")}]`,
    );

    expect(await turnIdsOn(primary.port, list)).toEqual(twice("t1", "t2"));
    // The other replica gets its copy too, asynchronously.
    for (const port of replicas) {
      await waitFor(
        `replica ${port} to hold the whole history`,
        async () => (await llen(port, list)) === 4,
        { timeoutMs: 10_000 },
      );
      expect(await turnIdsOn(port, list)).toEqual(twice("t1", "t2"));
    }
    const history = await http.messages("c1");
    expect((history.body as { messages: ChatMessage[] }).messages.map((m) => m.turnId)).toEqual(
      twice("t1", "t2"),
    );
  }, 60_000);

  it("SIGKILL of the primary: the app serves again by itself once a replica is promoted, history intact", async () => {
    const { lab, http, listOf, logFile } = await start("sigkill");
    const list = listOf("c1");
    expect(await http.turn("c1", { text: "one", turnId: "t1" })).toMatchObject({
      status: 200,
      body: { messagesSeen: 1 },
    });
    expect(await http.turn("c1", { text: "two", turnId: "t2" })).toMatchObject({
      status: 200,
      body: { messagesSeen: 3 },
    });
    // This test is about availability: whichever replica is promoted has both turns.
    const killed = await lab.primary();
    for (const port of lab.ports.filter((p) => p !== killed.port)) {
      await waitFor(
        `replica ${port} to hold t1 and t2`,
        async () => (await llen(port, list)) === 4,
      );
    }

    const killedAt = Date.now();
    await lab.killPrimary();
    // The turn is retried from the moment of the kill, while Sentinel fails over: the app must
    // find the new primary by itself (no restart, nothing told to it).
    const served = untilServed(http, "c1", "t3", killedAt + 30_000);
    served.catch(() => undefined);
    const promoted: RedisAddress = await lab.waitForPromotion(30_000);
    const promotedMs = Date.now() - killedAt;
    const { answer, at: servedAt, attempts } = await within("a 200 after the kill", served, 35_000);
    const servedMs = servedAt - killedAt;
    console.log(
      `[sentinel] SIGKILL of primary :${killed.port}: replica :${promoted.port} promoted after ${promotedMs} ms; first 200 of a new turn ${servedMs} ms after the kill (${attempts.length} attempts: ${summary(attempts)}); app log ${logFile}`,
    );

    expect(promoted.port).not.toBe(killed.port);
    expect(servedMs).toBeLessThan(15_000);
    expect(answer).toMatchObject({ turnId: "t3", messagesSeen: 5 });
    expect(await turnIdsOn(promoted.port, list)).toEqual(twice("t1", "t2", "t3"));
  }, 90_000);

  it("graceful switchover (SENTINEL FAILOVER): the old primary turns replica, the app follows, no turn acknowledged before or after is lost", async () => {
    const { lab, http, listOf, logFile } = await start("switchover");
    for (const [turnId, seen] of [
      ["t1", 1],
      ["t2", 3],
    ] as const) {
      expect(await http.turn("c1", { text: turnId, turnId })).toMatchObject({
        status: 200,
        body: { messagesSeen: seen },
      });
    }
    const old = await lab.primary();

    // Another conversation keeps sending turns throughout the switch, one at a time, each
    // retried with its own turnId until acknowledged: what a user sees meanwhile.
    let writing = true;
    const acked: Served[] = [];
    const writer = (async () => {
      for (let i = 1; writing; i++) {
        acked.push(await untilServed(http, "during", `d${i}`, Date.now() + 30_000));
      }
    })();
    writer.catch(() => undefined);
    await waitFor("the writer's first acknowledged turn", () => acked.length > 0);

    const sentinel = new Redis({ ...at(lab.sentinelPorts[0] ?? 0), lazyConnect: true });
    sentinel.on("error", () => {});
    const failoverAt = Date.now();
    try {
      await sentinel.connect();
      expect(await sentinel.call("SENTINEL", "FAILOVER", lab.name)).toBe("OK");
    } finally {
      sentinel.disconnect();
    }
    const promoted = await lab.waitForPromotion(30_000);
    const promotedMs = Date.now() - failoverAt;
    const probeKey = `sentinel-failover-test:probe:${process.pid}`;
    const refusal = await waitFor(
      `the old primary :${old.port} to refuse writes as a replica`,
      () => refusesWrites(old.port, probeKey),
      { timeoutMs: 45_000, everyMs: 200 },
    );
    const readonlyAt = Date.now();
    const role = (await askRedis(at(old.port), "ROLE")) as unknown[];
    // The app follows by itself: the writer is acknowledged again soon after the demotion.
    const resumed = await waitFor(
      "a writer turn sent after the demotion to be acknowledged",
      () => acked.find((served) => served.sentAt >= readonlyAt),
      { timeoutMs: 15_000, everyMs: 20 },
    );
    writing = false;
    await within("the writer to finish its last turn", writer, 35_000);

    // A turn sent once the switch is over: at most a few 503s, then 200.
    const after = await untilServed(http, "c1", "t3", Date.now() + 20_000);

    const attempts = acked.flatMap((served) => served.attempts);
    const during = await turnIdsOn(promoted.port, listOf("during"));
    const lost = acked.filter((served) => !during.includes(served.answer.turnId));
    const lostWindow = lost.length
      ? ` (${lost[0]?.answer.turnId}..${lost.at(-1)?.answer.turnId}, acknowledged ${(lost[0]?.at ?? 0) - failoverAt}..${(lost.at(-1)?.at ?? 0) - failoverAt} ms after FAILOVER)`
      : "";
    console.log(
      `[sentinel] SENTINEL FAILOVER: :${promoted.port} primary after ${promotedMs} ms; old primary :${old.port} answers "${refusal}" after ${readonlyAt - failoverAt} ms; writer: longest gap between two 200s ${longestGap(acked)} ms, attempts ${summary(attempts)}, acknowledged ${acked.length}, missing from the new primary ${lost.length}${lostWindow}; writer's first 200 sent after the demotion came ${resumed.at - readonlyAt} ms after it; turn t3 after the switch: ${summary(after.attempts)}; app log ${logFile}`,
    );

    expect(promoted.port).not.toBe(old.port);
    expect(role[0]).toBe("slave");
    expect(resumed.at - readonlyAt).toBeLessThan(5000);
    expect(after.attempts.length).toBeLessThanOrEqual(4);
    expect(after.answer).toMatchObject({ turnId: "t3", messagesSeen: 5 });
    // Before and after the switch: every acknowledged turn, each exactly once.
    expect(await turnIdsOn(promoted.port, listOf("c1"))).toEqual(twice("t1", "t2", "t3"));
    const sentAfter = acked.filter((served) => served.sentAt >= readonlyAt);
    for (const served of sentAfter) {
      expect(during.filter((id) => id === served.answer.turnId)).toHaveLength(2);
    }
    // Whatever the switch cost, nothing the new primary holds is stored twice.
    expect(new Set(during).size * 2).toBe(during.length);
  }, 90_000);
  it("with replication cut, a turn is 503 store_write_uncertain within WAIT; retried after restore, 200 and stored once", async () => {
    const { lab, http, listOf, logFile } = await start("replication-cut");
    const list = listOf("c1");
    expect(await http.turn("c1", { text: "one", turnId: "t1" })).toMatchObject({
      status: 200,
      body: { messagesSeen: 1 },
    });
    const primary = await lab.primary();

    await lab.cutReplication();
    const sentAt = Date.now();
    const refused = await http.turn("c1", { text: "two", turnId: "t2" });
    const refusedMs = Date.now() - sentAt;
    expect(refused).toMatchObject({
      status: 503,
      body: { error: { code: "store_write_uncertain" } },
    });
    expect(refusedMs).toBeLessThan(WAIT_MS + 1000);
    // Uncertain, honestly: the primary did store it, no replica has it.
    expect(await turnIdsOn(primary.port, list)).toEqual(twice("t1", "t2"));

    await lab.restoreReplication();
    const restoredAt = Date.now();
    const retried = await untilServed(http, "c1", "t2", restoredAt + 20_000);
    console.log(
      `[sentinel] replication cut: 503 ${errorCode(refused.body)} after ${refusedMs} ms (REDIS_WAIT_MS ${WAIT_MS}); same turnId after restore: 200 after ${retried.at - restoredAt} ms (${summary(retried.attempts)}); app log ${logFile}`,
    );
    expect(retried.answer).toMatchObject({ turnId: "t2", messagesSeen: 3, replayed: true });
    const history = await http.messages("c1");
    expect((history.body as { messages: ChatMessage[] }).messages.map((m) => m.turnId)).toEqual(
      twice("t1", "t2"),
    );
    expect(await turnIdsOn(primary.port, list)).toEqual(twice("t1", "t2"));
  }, 60_000);
});
