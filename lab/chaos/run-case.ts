import { join } from "node:path";
import { type AppName, backendOf, type ScenarioName } from "../../scenarios/catalogue.ts";
import { issueToken } from "../../service/auth/tokens.ts";
import { DEV_AUTH_SECRET } from "../../service/config.ts";
import { checkRun } from "../check/checker.ts";
import type { CheckResult } from "../check/types.ts";
import { resendRefused } from "../load/cli-options.ts";
import { readFromHosts } from "../load/final-reads.ts";
import type { AttemptAnswerLog, FinalRead } from "../load/records.ts";
import { type LoadResult, runLoad } from "../load/run-load.ts";
import { now } from "../load/scheduler.ts";
import {
  type AppCluster,
  startAppCluster,
  waitForReplacement,
  waitForStore,
} from "../processes/app-cluster.ts";
import type { RedisPersistence } from "../processes/redis-server.ts";
import { type FaultRedis, startFaultRedis } from "./fault-redis.ts";
import { FAULTS, type Fault, type FaultEvent, type FaultName, type FaultTarget } from "./faults.ts";
import { type ChaosOutcome, measureOutcome } from "./outcome.ts";
import { StreamsInFlight } from "./streams-in-flight.ts";

export interface ChaosOptions {
  workers: number;
  conversations: number;
  turns: number;
  connections: number;
  /** Simulated model latency per turn, in ms: keeps turns in flight when a fault strikes. */
  agentLatencyMs: number;
  /** Strike once this share of all turns has been acknowledged (0-1). */
  strikeAt: number;
  /** How long Redis stays down in the Redis faults, in ms. */
  downMs: number;
  /** How the fixed app's private Redis keeps its data (see RedisPersistence). */
  persistence: RedisPersistence;
  /**
   * Faults that do not act on Redis itself (the control, the worker faults) run the fixed app
   * on a primary with 2 replicas under Sentinel instead of one redis-server.
   */
  redisSentinel: boolean;
  /** Pin each conversation to one connection: the broken app then looks healthy until a fault. */
  sticky: boolean;
  /** Seconds to wait for one answer before the turn counts as "no answer". */
  timeoutSeconds: number;
  maxSeconds: number;
  logDir: string;
  progress: boolean;
}

export const DEFAULT_CHAOS_OPTIONS: ChaosOptions = {
  workers: 4,
  conversations: 16,
  turns: 10,
  connections: 8,
  agentLatencyMs: 20,
  strikeAt: 0.3,
  downMs: 1000,
  persistence: "aof-always",
  redisSentinel: false,
  sticky: true,
  timeoutSeconds: 3,
  maxSeconds: 60,
  logDir: ".runs",
  progress: false,
};

/** One fault against one app, and what came of it. */
export interface ChaosCase {
  fault: FaultName;
  app: AppName;
  /** Why the case did not run (the broken app has no Redis to fail). */
  skipped?: string;
  event?: FaultEvent;
  outcome?: ChaosOutcome;
  load?: LoadResult;
  check?: CheckResult;
  logFile?: string;
}

/** A turn cut off by the fault leaves its lease behind: let it expire in 2 s. */
export const CHAOS_TURN_LEASE_MS = 2000;

/**
 * A client that waits and resends a definite refusal: during an outage the turn is refused
 * (HTTP 503 store_unavailable, nothing stored), and goes through once the store is back; a
 * stream ended `turn_interrupted` (its worker died, nothing stored) runs again elsewhere.
 */
export const RESEND_BACKOFF_MS = 100;

/**
 * Starts the app of the fault's scenario (memory unless it names one; an app on Redis gets a
 * private one with the chosen persistence, or the fault's), runs the load test (streamed if
 * the fault says), strikes with the fault once `strikeAt` of the turns are acknowledged, then
 * checks every history. Everything started is stopped again, also on failure.
 */
export async function runChaosCase(
  faultName: FaultName,
  app: AppName,
  options: ChaosOptions,
): Promise<ChaosCase> {
  const fault = FAULTS[faultName];
  if (fault.needsRedis && app === "broken") {
    return {
      fault: faultName,
      app,
      skipped: "keeps its state in worker memory: there is no Redis to fail",
    };
  }
  const secret = process.env.AUTH_SECRET ?? DEV_AUTH_SECRET;
  const scenario = fault.scenario ?? "memory";
  let store: FaultRedis | undefined;
  let cluster: AppCluster | undefined;
  const logFile = join(options.logDir, `chaos-${faultName}-${app}-${Date.now()}.log`);
  try {
    // Sentinel (--redis-sentinel) is the fixed app's; a broken app on Redis gets a plain one.
    const storeOptions = { ...options, redisSentinel: options.redisSentinel && app === "fixed" };
    if (backendOf(app, scenario) === "redis") store = await startFaultRedis(fault, storeOptions);
    cluster = await startChaosApp({ app, scenario, fault, store, secret, logFile }, options);
    const inFlight = fault.stream ? new StreamsInFlight() : undefined;
    const trigger = new FaultTrigger(fault, { store, inFlight, url: cluster.url }, options);
    const streamErrors: AttemptAnswerLog[] = [];
    const token = issueToken({ tenant: "chaos", user: `${faultName}-${process.pid}` }, secret);
    const load = await runLoad({
      url: cluster.url,
      token,
      conversations: options.conversations,
      turns: options.turns,
      connections: options.connections,
      workers: options.workers,
      sticky: options.sticky,
      overlap: 1,
      retryRate: 0,
      timeoutSeconds: clientTimeoutSeconds(fault, options),
      maxSeconds: options.maxSeconds,
      progress: options.progress,
      resendRefused: resendRefused({ "resend-refused": RESEND_BACKOFF_MS }),
      stream: fault.stream,
      streamWatch: inFlight,
      onAnswer: (answer) => {
        // A stream's error event comes in a 200: kept to time it against the fault.
        if (answer.status === 200 && answer.code) streamErrors.push(answer);
        trigger.answered(answer);
      },
    });
    const loadEndedAt = now();
    const event = await trigger.event();
    // Histories read while the fault was still going on prove nothing about what survived it.
    if (event && event.restoredAt > loadEndedAt) {
      load.reads = await readAfterFault(cluster.url, token, load);
    }
    const replaced =
      event?.victimPid !== undefined
        ? await waitForReplacement(cluster.url, options.workers, event.victimPid)
        : undefined;
    const check = checkRun(load);
    const outcome = measureOutcome(load, check, event, replaced, streamErrors);
    return { fault: faultName, app, event, outcome, load, check, logFile };
  } finally {
    await cluster?.stop();
    await store?.stop();
  }
}

/** How long the load's client waits for an answer's next byte under this fault, in s. */
export function clientTimeoutSeconds(fault: Fault, options: ChaosOptions): number {
  return Math.max(options.timeoutSeconds, fault.minTimeoutSeconds ?? 0);
}

/** Which app a chaos case starts, for which fault, on which Redis, logging where. */
interface ChaosApp {
  app: AppName;
  scenario: ScenarioName;
  fault: Fault;
  store: FaultRedis | undefined;
  secret: string;
  logFile: string;
}

/** The app under test, on the fault's Redis when it has one, once its workers reach it. */
async function startChaosApp(
  { app, scenario, fault, store, secret, logFile }: ChaosApp,
  options: ChaosOptions,
): Promise<AppCluster> {
  const cluster = await startAppCluster({
    app,
    scenario,
    workers: options.workers,
    logFile,
    env: {
      AUTH_SECRET: secret,
      AGENT_LATENCY_MS: String(options.agentLatencyMs),
      ...store?.env,
      TURN_LEASE_MS: String(CHAOS_TURN_LEASE_MS),
      ...fault.env,
      ...(app === "fixed" ? fault.appEnv : {}),
    },
  });
  if (store) await waitForStore(cluster.url, options.workers);
  return cluster;
}

/** What a fault can strike at: the app's Redis, its streams in flight, the app itself. */
interface TriggerTargets {
  store: FaultRedis | undefined;
  inFlight: StreamsInFlight | undefined;
  url: string;
}

/**
 * Strikes with the fault once, when `strikeAt` of the turns are acknowledged, at the worker
 * that has acknowledged the most so far; counts every answer for faults that wait on them.
 */
class FaultTrigger {
  private answers = 0;
  private acknowledged = 0;
  private readonly okByPid = new Map<number, number>();
  private readonly strikeAfter: number;
  private strike: Promise<FaultEvent> | undefined;

  constructor(
    private readonly fault: Fault,
    private readonly on: TriggerTargets,
    private readonly options: ChaosOptions,
  ) {
    this.strikeAfter = Math.ceil(options.strikeAt * options.conversations * options.turns);
  }

  answered(answer: AttemptAnswerLog): void {
    this.answers++;
    if (answer.outcome !== "ok" || !answer.servedBy) return;
    this.acknowledged++;
    const pid = answer.servedBy.pid;
    this.okByPid.set(pid, (this.okByPid.get(pid) ?? 0) + 1);
    if (this.strike || this.acknowledged < this.strikeAfter) return;
    const { store, inFlight, url } = this.on;
    const target: FaultTarget = {
      redis: store?.redis,
      failover: store?.failover,
      downMs: this.options.downMs,
      answers: () => this.answers,
      victimPid: busiest(this.okByPid),
      midReplyWorker: () => inFlight?.midReplyWorker(),
      app: { url, workers: this.options.workers },
    };
    this.strike = this.fault.inject(target, now);
    // Its failure is reported when it is awaited (event()), not as an unhandled rejection.
    this.strike.catch(() => undefined);
  }

  /** What the fault did, once it is over; undefined if the run ended before it struck. */
  event(): Promise<FaultEvent | undefined> {
    return this.strike ?? Promise.resolve(undefined);
  }
}

/**
 * Every conversation read again, from every worker (fresh connections), once every worker
 * reaches the store: the load ended before the fault did (a failover still promoting a
 * replica), so its own reads came too early.
 */
async function readAfterFault(url: string, token: string, load: LoadResult): Promise<FinalRead[]> {
  const { workers } = load.options;
  // Each worker's client finds the new primary by itself; read once every one has.
  await waitForStore(url, workers);
  const conversationIds = [...new Set(load.turns.map((turn) => turn.conversationId))];
  return readFromHosts({ url, token, workers }, conversationIds);
}

/** The worker that has acknowledged the most turns: its loss shows most. */
function busiest(okByPid: Map<number, number>): number {
  let best: [number, number] = [0, -1];
  for (const entry of okByPid) if (entry[1] > best[1]) best = entry;
  return best[0];
}
