import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { ScenarioName } from "../../../scenarios/catalogue.ts";
import { startVariant } from "../../../scenarios/start-variant.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import { type AppConfig, loadConfig } from "../../../service/config.ts";
import type { HealthResponse, TurnResponse } from "../../../service/contract.ts";
import type { RunningServer } from "../../../service/server.ts";
import { requestJson } from "../../load/http-json.ts";
import { type PrivateRedis, startPrivateRedis } from "../../processes/redis-server.ts";
import { inPartOrder, type MissingPart, onRedis } from "./parts.ts";
import { appClientIds, probeClient, watchWholeListReads } from "./redis-watch.ts";

/** A small window and more turns than it holds: a turn that loads everything shows at once. */
const WINDOW = 4;
const TURNS = WINDOW + 2;
/** A truthful /healthz says the store is down within this of Redis stopping. */
const STORE_DOWN_WITHIN_MS = 3000;
const HEALTH_TIMEOUT_MS = 1500;
/** close() must be done, and its connections gone, within this. */
const CLOSE_WITHIN_MS = 3000;

const PING_HINT = "ask the store (ping)";
/** How to read only the window, in the words of the scenario's own store. */
function loadRecentHint(scenario: ScenarioName): string {
  if (scenario === "openai-agents") {
    return "read only the recent items: the Runner asks the session for all of them on every run, so open it with recentItems: this.contextWindow (RedisSession)";
  }
  return "load only the recent messages (store.loadRecent(key, this.contextWindow))";
}

/** How to report the whole history's length while reading only the window. */
function historyLengthHint(scenario: ScenarioName): string {
  if (scenario === "openai-agents") {
    return "report the whole history's length, which the session reads with its items (session.historyLength), not how many items a read returned";
  }
  return "report the whole history's length, which loadRecent returns with the messages, not how many messages the agent was given";
}
const CLOSE_HINT = "release the store (await this.store.close())";

/**
 * The parts of a whole fix that the learner's copy of `scenario` lacks, found by running it
 * as one worker does (startVariant: the real app, in this process) on a private redis-server
 * that no one else uses, since it is stopped on the way. Empty: nothing is missing.
 */
export async function findMissingParts(scenario: ScenarioName): Promise<MissingPart[]> {
  const redis = onRedis(scenario) ? await startPrivateRedis() : undefined;
  const stateDir = await mkdtemp(join(tmpdir(), "exercise-probe-state-"));
  try {
    const config = probeConfig(redis?.url, stateDir);
    const missing = await probeRunningApp(scenario, config, redis);
    if (redis) missing.push(...(await probeStoreDown(scenario, config, redis)));
    return inPartOrder(missing);
  } finally {
    await redis?.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

function probeConfig(redisUrl: string | undefined, stateDir: string): AppConfig {
  return loadConfig({
    ...process.env,
    REDIS_URL: redisUrl,
    REDIS_CLUSTER_NODES: undefined,
    CONTEXT_WINDOW_MESSAGES: String(WINDOW),
    STATE_DIR: stateDir,
    // What the probes look at needs no race window, no model latency and no turn limit.
    STORE_WRITE_DELAY_MS: "0",
    AGENT_MODEL: "scripted",
    AGENT_LATENCY_MS: "0",
    RATE_LIMIT_TURNS_PER_MINUTE: "0",
    LOG_LEVEL: "silent",
  });
}

/** One app: /healthz with Redis up, a conversation longer than the window, then close(). */
async function probeRunningApp(
  scenario: ScenarioName,
  config: AppConfig,
  redis: PrivateRedis | undefined,
): Promise<MissingPart[]> {
  const probe = redis && probeClient(redis.url);
  try {
    const before = probe ? await appClientIds(probe) : new Set<string>();
    const app = await startVariant("exercise", scenario, config, 0);
    let missing: MissingPart[];
    try {
      missing = await probeTurns(scenario, `http://127.0.0.1:${app.port}`, config, redis?.url);
    } catch (error) {
      await stopWithin(app, CLOSE_WITHIN_MS);
      throw error;
    }
    const opened = probe ? without(await appClientIds(probe), before) : new Set<string>();
    return [...missing, ...(await probeClose(app, probe, opened))];
  } finally {
    probe?.disconnect();
  }
}

async function probeTurns(
  scenario: ScenarioName,
  url: string,
  config: AppConfig,
  redisUrl?: string,
) {
  const health = redisUrl ? await healthWhileUp(url) : [];
  return [...health, ...(await probeWindow(scenario, url, config, redisUrl))];
}

function without(ids: Set<string>, known: Set<string>): Set<string> {
  return new Set([...ids].filter((id) => !known.has(id)));
}

/** Stops the app (its close() included); false when that did not end within `ms`. */
async function stopWithin(app: RunningServer, ms: number): Promise<boolean> {
  const stopped = app.stop().then(
    () => true,
    () => true,
  );
  return Promise.race([stopped, sleep(ms, false, { ref: false })]);
}

interface HealthAnswer {
  reachable?: boolean;
  /** Why there is no `reachable`: the status, or the request's error. */
  problem?: string;
}

async function askHealth(url: string): Promise<HealthAnswer> {
  try {
    const res = await requestJson(`${url}/healthz`, { timeoutMs: HEALTH_TIMEOUT_MS });
    const reachable = (res.body as Partial<HealthResponse>).store?.reachable;
    if (res.status === 200 && typeof reachable === "boolean") return { reachable };
    return { problem: `status ${res.status}` };
  } catch (error) {
    return { problem: error instanceof Error ? error.message : String(error) };
  }
}

async function healthWhileUp(url: string): Promise<MissingPart[]> {
  const { reachable, problem } = await askHealth(url);
  if (reachable === true) return [];
  const hint =
    reachable === false
      ? `storeReachable() says the store is down while Redis is up: ${PING_HINT}.`
      : `/healthz did not answer while Redis was up (${problem}): storeReachable() must answer, and never throw.`;
  return [{ part: "health", hint }];
}

/** A second app, and Redis stops under it: its /healthz must say so. */
async function probeStoreDown(
  scenario: ScenarioName,
  config: AppConfig,
  redis: PrivateRedis,
): Promise<MissingPart[]> {
  const app = await startVariant("exercise", scenario, config, 0);
  try {
    await redis.halt("SIGTERM");
    const { reachable, problem } = await healthOnceDown(`http://127.0.0.1:${app.port}`);
    if (reachable === false) return [];
    const hint = reachable
      ? `storeReachable() says the store is up while Redis is down: ${PING_HINT}.`
      : `/healthz did not answer while Redis was down (${problem}): storeReachable() must answer at once and never throw, as the store's ping() does.`;
    return [{ part: "health", hint }];
  } finally {
    await stopWithin(app, CLOSE_WITHIN_MS);
  }
}

/** Asks /healthz until it says the store is unreachable, or time is up: its last answer. */
async function healthOnceDown(url: string): Promise<HealthAnswer> {
  const deadline = Date.now() + STORE_DOWN_WITHIN_MS;
  for (;;) {
    const health = await askHealth(url);
    if (health.reachable === false || Date.now() > deadline) return health;
    await sleep(100);
  }
}

/** TURNS turns of one conversation: how many messages the agent got, and what Redis read. */
async function probeWindow(
  scenario: ScenarioName,
  url: string,
  config: AppConfig,
  redisUrl?: string,
) {
  const watch = redisUrl ? await watchWholeListReads(redisUrl) : undefined;
  try {
    const answers = await sendTurns(url, config);
    return windowFindings(answers, (await watch?.count()) ?? 0, scenario);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return [{ part: "context-window" as const, hint: `${why}: the window could not be checked.` }];
  } finally {
    watch?.stop();
  }
}

/** What each turn reported, in order; throws on a turn that is not answered 200. */
async function sendTurns(url: string, config: AppConfig): Promise<TurnResponse[]> {
  const token = issueToken({ tenant: "exercise", user: "probe" }, config.authSecret);
  const answers: TurnResponse[] = [];
  for (let n = 1; n <= TURNS; n++) {
    const res = await requestJson(`${url}/conversations/window-probe/turns`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ text: `turn ${n} of ${TURNS}`, turnId: `window-probe-${n}` }),
    });
    if (res.status !== 200) {
      throw new Error(
        `turn ${n} of a conversation answered ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
    answers.push(res.body as TurnResponse);
  }
  return answers;
}

function windowFindings(
  answers: TurnResponse[],
  wholeReads: number,
  scenario: ScenarioName,
): MissingPart[] {
  const most = Math.max(...answers.map((answer) => answer.messagesSeen));
  const facts: string[] = [];
  if (most > WINDOW + 1) {
    facts.push(
      `the agent was given ${most} messages with CONTEXT_WINDOW_MESSAGES=${WINDOW} (at most ${WINDOW + 1}: the window and the new message)`,
    );
  }
  if (wholeReads > 0) {
    facts.push(
      `the turns read the whole history from Redis (LRANGE 0 -1, what store.load sends, ${wholeReads} times in ${TURNS} turns)`,
    );
  }
  const findings: MissingPart[] = [];
  if (facts.length > 0) {
    findings.push({
      part: "context-window",
      hint: `${facts.join(", and ")}: ${loadRecentHint(scenario)}.`,
    });
  }
  // The n-th turn of one conversation follows 2(n-1) messages, however few the agent is given.
  const short = answers.findIndex((answer, i) => answer.historyLength !== 2 * i);
  if (short >= 0) {
    const reported = answers[short]?.historyLength;
    const hint = `turn ${short + 1} reported historyLength ${reported}, but ${2 * short} messages were stored before it (the checker judges stale reads by it): ${historyLengthHint(scenario)}.`;
    findings.push({ part: "context-window", hint });
  }
  return findings;
}

/** Stops the app, then waits for the Redis connections it opened to go. */
async function probeClose(
  app: RunningServer,
  probe: Redis | undefined,
  opened: Set<string>,
): Promise<MissingPart[]> {
  const ended = await stopWithin(app, CLOSE_WITHIN_MS);
  if (!probe) return [];
  if (!ended) {
    const hint = `close() did not end within ${CLOSE_WITHIN_MS / 1000} s: ${CLOSE_HINT}, and nothing else.`;
    return [{ part: "close", hint }];
  }
  const left = await connectionsLeft(probe, opened);
  if (left === 0) return [];
  const connections = left === 1 ? "1 Redis connection" : `${left} Redis connections`;
  return [{ part: "close", hint: `close() left ${connections} open: ${CLOSE_HINT}.` }];
}

/** How many of `opened` are still connected once they had CLOSE_WITHIN_MS to go. */
async function connectionsLeft(probe: Redis, opened: Set<string>): Promise<number> {
  const deadline = Date.now() + CLOSE_WITHIN_MS;
  for (;;) {
    const now = await appClientIds(probe);
    const left = [...opened].filter((id) => now.has(id)).length;
    if (left === 0 || Date.now() > deadline) return left;
    await sleep(50);
  }
}
