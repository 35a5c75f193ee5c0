import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AppName, keepsOf, type ScenarioName } from "../../scenarios/catalogue.ts";
import { conversationKey } from "../../service/auth/conversation-key.ts";
import { issueToken } from "../../service/auth/tokens.ts";
import { DEV_AUTH_SECRET, loadConfig } from "../../service/config.ts";
import { conversationKeys } from "../../service/store/commands.ts";
import { type LoadResult, runLoad } from "../load/run-load.ts";
import { type AppCluster, startAppCluster } from "../processes/app-cluster.ts";
import { type RedisSentinelHandle, startRedisSentinel } from "../processes/redis-sentinel.ts";
import {
  ensureRedis,
  type RedisHandle,
  type RedisPersistence,
  startPrivateRedis,
} from "../processes/redis-server.ts";

/** One contender of the benchmark: an app, the scenario it runs, its label in tables. */
export interface Contender {
  label: string;
  app: AppName;
  scenario: ScenarioName;
  env?: Record<string, string>;
  /** Runs on a private Redis of its own with this persistence (default: the shared one). */
  persistence?: Exclude<RedisPersistence, "none">;
  /** Runs on the bench's primary + 2 replicas under Sentinel (shared by such contenders). */
  sentinel?: boolean;
  /** A fixed framework app's broken twin (its label): the app its ratios are taken against. */
  twin?: string;
  /** A streaming contender's settings (STREAM_FLUSH_MS, AGENT_CHUNK_DELAY_MS). */
  streaming?: StreamingSettings;
}

/** The cost floor, the fix, and the article's whole-history save (sequential: correct, just slow). */
export const CONTENDERS: readonly Contender[] = [
  { label: "broken · history in worker memory", app: "broken", scenario: "memory" },
  { label: "fixed · history in Redis", app: "fixed", scenario: "memory" },
  // What an acknowledged turn that survives a crash costs: an fsync before each write's answer.
  {
    label: "fixed · history in Redis, AOF always",
    app: "fixed",
    scenario: "memory",
    persistence: "aof-always",
  },
  // What surviving a failover costs: the same app on a primary with 2 replicas, acknowledging
  // on the primary's reply, then only once a replica has the write (WAIT 1, the default there).
  {
    label: "fixed · Sentinel, 2 replicas, no WAIT",
    app: "fixed",
    scenario: "memory",
    sentinel: true,
    env: { REDIS_WAIT_REPLICAS: "0" },
  },
  {
    label: "fixed · Sentinel, 2 replicas, WAIT 1",
    app: "fixed",
    scenario: "memory",
    sentinel: true,
  },
  // No artificial write delay here: this measures the pattern, not the lesson's race window.
  {
    label: "naive save · history in Redis",
    app: "broken",
    scenario: "naive-save",
    env: { STORE_WRITE_DELAY_MS: "0" },
  },
];

/** "broken · langgraph · checkpoints in worker memory": app, scenario, where its state lives. */
function frameworkLabel(app: "broken" | "fixed", scenario: ScenarioName): string {
  return `${app} · ${scenario} · ${keepsOf(app, scenario)}`;
}

/**
 * The framework scenarios (LangGraph, the Agents SDK), each fixed app next to its broken twin:
 * a list of their own, so the main table's ratios stay against the in-memory broken app.
 */
export const FRAMEWORK_CONTENDERS: readonly Contender[] = (
  ["langgraph", "openai-agents"] as const
).flatMap((scenario) => [
  { label: frameworkLabel("broken", scenario), app: "broken", scenario },
  {
    label: frameworkLabel("fixed", scenario),
    app: "fixed",
    scenario,
    twin: frameworkLabel("broken", scenario),
  },
]);

/** The app the frameworks section shows the framework apps' cost and growth next to. */
export const FRAMEWORK_REFERENCE = "fixed · history in Redis";

/** How a streaming contender writes its stream, and how fast its model writes the reply. */
export interface StreamingSettings {
  /** STREAM_FLUSH_MS: deltas go to Redis at most once per this many ms (fixed apps only). */
  flushMs: number;
  /** AGENT_CHUNK_DELAY_MS: the scripted model's pause between two words (0: all at once). */
  chunkDelayMs: number;
}

/** The apps' default AGENT_CHUNK_DELAY_MS: a model writing about 100 words a second. */
export const DEFAULT_CHUNK_DELAY_MS = loadConfig({}).AGENT_CHUNK_DELAY_MS;
/** The apps' default STREAM_FLUSH_MS. */
export const DEFAULT_FLUSH_MS = loadConfig({}).STREAM_FLUSH_MS;

/**
 * The `streaming` scenario's app (both keep the history in Redis; broken keeps a turn's
 * stream in worker memory, fixed in a Redis Stream) with these settings. Long texts are
 * allowed, so replies of thousands of words can be asked for.
 */
export function streamingContender(
  app: "broken" | "fixed",
  settings: StreamingSettings,
): Contender {
  return {
    label: streamingLabel(app, settings),
    app,
    scenario: "streaming",
    streaming: settings,
    env: {
      STREAM_FLUSH_MS: String(settings.flushMs),
      AGENT_CHUNK_DELAY_MS: String(settings.chunkDelayMs),
      TEXT_MAX_CHARS: "100000",
      BODY_LIMIT: "256kb",
    },
  };
}

/** "fixed · stream in Redis, flush 50 ms, bursty model": the defaults go unsaid. */
function streamingLabel(app: "broken" | "fixed", { flushMs, chunkDelayMs }: StreamingSettings) {
  const parts = [app === "fixed" ? "fixed · stream in Redis" : "broken · stream in worker memory"];
  if (app === "fixed" && flushMs !== DEFAULT_FLUSH_MS) parts.push(`flush ${flushMs} ms`);
  if (chunkDelayMs === 0) parts.push("bursty model");
  else if (chunkDelayMs !== DEFAULT_CHUNK_DELAY_MS) parts.push(`model ${chunkDelayMs} ms/word`);
  return parts.join(", ");
}

/** The flush intervals the streaming section compares, the default (20) among them. */
export const STREAM_FLUSH_CHOICES = [0, 20, 50] as const;

/**
 * The streaming section's apps: for the default model (a word every 10 ms) and a bursty one
 * (the whole reply at once), the broken app and the fixed one at each flush interval.
 */
export const STREAMING_CONTENDERS: readonly Contender[] = [DEFAULT_CHUNK_DELAY_MS, 0].flatMap(
  (chunkDelayMs) => [
    streamingContender("broken", { flushMs: DEFAULT_FLUSH_MS, chunkDelayMs }),
    ...STREAM_FLUSH_CHOICES.map((flushMs) =>
      streamingContender("fixed", { flushMs, chunkDelayMs }),
    ),
  ],
);

/** The contender a table label names; throws on a label no contender has. */
export function contenderOf(label: string): Contender {
  const all = [...CONTENDERS, ...FRAMEWORK_CONTENDERS, ...STREAMING_CONTENDERS];
  const contender = all.find((c) => c.label === label);
  if (!contender) throw new Error(`no bench contender is labelled "${label}"`);
  return contender;
}

export interface BenchEnvironment {
  redis: RedisHandle;
  /** The Redis each contender uses, by label (most share `redis`). */
  redisUrls: Map<string, string>;
  apps: Map<string, AppCluster>;
  secret: string;
  token: string;
  /** The conversation key of one of the bench token's conversations, as the apps derive it. */
  keyOf(conversationId: string): string;
  /** The Redis keys of one of the bench token's conversations, as the apps derive them. */
  keysOf(conversationId: string): ReturnType<typeof conversationKeys>;
  stop(): Promise<void>;
}

/**
 * Starts Redis and each contender's cluster once (all of CONTENDERS unless told which), so
 * rounds measure turns, not start-ups.
 */
export async function startBenchApps(options: {
  workers: number;
  agentLatencyMs: number;
  extraEnv?: Record<string, string>;
  contenders?: readonly Contender[];
}): Promise<BenchEnvironment> {
  const secret = process.env.AUTH_SECRET ?? DEV_AUTH_SECRET;
  const redis = await ensureRedis();
  const apps = new Map<string, AppCluster>();
  const redisUrls = new Map<string, string>();
  const ownRedis: RedisHandle[] = [];
  let sentinel: RedisSentinelHandle | undefined;
  const stopAll = async () => {
    for (const app of apps.values()) await app.stop();
    for (const own of ownRedis) await own.stop();
    await sentinel?.stop();
    await redis.stop();
  };
  try {
    for (const contender of options.contenders ?? CONTENDERS) {
      let url = redis.url;
      const sentinelEnv: Record<string, string> = {};
      if (contender.sentinel) {
        sentinel ??= await startRedisSentinel();
        const primary = await sentinel.primary();
        url = `redis://${primary.host}:${primary.port}`;
        sentinelEnv.REDIS_SENTINELS = sentinel.sentinels;
        sentinelEnv.REDIS_SENTINEL_NAME = sentinel.name;
      } else if (contender.persistence) {
        const own = await startPrivateRedis({ persistence: contender.persistence });
        ownRedis.push(own);
        url = own.url;
      }
      redisUrls.set(contender.label, url);
      apps.set(
        contender.label,
        await startAppCluster({
          app: contender.app,
          scenario: contender.scenario,
          workers: options.workers,
          logFile: join(tmpdir(), `agent-sandbox-bench-${contender.app}-${contender.scenario}.log`),
          env: {
            REDIS_URL: url,
            AUTH_SECRET: secret,
            AGENT_LATENCY_MS: String(options.agentLatencyMs),
            // Per-turn log lines cost the same in every app; keep them out of the measurement.
            LOG_LEVEL: "warn",
            ...sentinelEnv,
            ...contender.env,
            ...options.extraEnv,
          },
        }),
      );
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  const identity = { tenant: "bench", user: `bench-${process.pid}` };
  const prefix = options.extraEnv?.REDIS_KEY_PREFIX ?? loadConfig({}).REDIS_KEY_PREFIX;
  return {
    redis,
    redisUrls,
    apps,
    secret,
    token: issueToken(identity, secret),
    keyOf: (conversationId) => conversationKey(prefix, identity, conversationId),
    keysOf: (conversationId) => conversationKeys(conversationKey(prefix, identity, conversationId)),
    stop: stopAll,
  };
}

/** One sequential load for measuring (no read-back: the benchmark times turns, not the checker). */
export function benchLoad(
  url: string,
  token: string,
  shape: { conversations: number; turns: number; connections: number; workers: number },
): Promise<LoadResult> {
  return runLoad({
    url,
    token,
    ...shape,
    sticky: false,
    overlap: 1,
    retryRate: 0,
    timeoutSeconds: 30,
    maxSeconds: 600,
    readBack: false,
    progress: false,
  });
}

/**
 * The contenders the chosen sections measure, each started once: every section but
 * `frameworks` and `streaming` measures CONTENDERS; `frameworks` its own four apps and the
 * reference; `streaming` its own.
 */
export function contendersFor(sections: readonly string[]): Contender[] {
  const chosen = [
    ...(sections.some((s) => s !== "frameworks" && s !== "streaming") ? CONTENDERS : []),
    ...(sections.includes("frameworks")
      ? [contenderOf(FRAMEWORK_REFERENCE), ...FRAMEWORK_CONTENDERS]
      : []),
    ...(sections.includes("streaming") ? STREAMING_CONTENDERS : []),
  ];
  return [...new Map(chosen.map((c) => [c.label, c])).values()];
}
