import { z } from "zod";
import { logger } from "./logger.ts";

/** The ports `npm start` gives each app (PORT overrides). */
export const DEFAULT_PORTS = { broken: 3001, fixed: 3002, exercise: 3003 } as const;

/** The development secret: fine on a laptop, never in production. */
export const DEV_AUTH_SECRET = "dev-only-secret-change-me";

/** HMAC-SHA256 wants a key at least as long as its output: 32 bytes. */
export const MIN_PRODUCTION_SECRET_BYTES = 32;

/** `host:port,host:port`: the nodes of a Redis Cluster, or the Sentinels. */
const nodeList = z.string().superRefine((nodes, ctx) => {
  try {
    parseNodeList(nodes);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

const EnvFields = z.object({
  /** `production` refuses the development secret (see AUTH_SECRET). */
  NODE_ENV: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Names this host in `servedBy` when several app clusters stand for several machines. */
  HOST_LABEL: z.string().min(1).max(100).optional(),
  /** pino's level: silent (tests), error, warn, info, debug. */
  LOG_LEVEL: z.enum(["silent", "fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
  WORKERS: z.coerce.number().int().min(1).max(64).default(4),
  /** One Redis: `redis://[:password@]host:port`, or `rediss://` for TLS. */
  REDIS_URL: z.string().url().optional(),
  /**
   * Comma-separated `host:port` nodes of a Redis Cluster (any one reachable node is enough).
   * When set, the fixed app uses a cluster client instead of REDIS_URL.
   */
  REDIS_CLUSTER_NODES: nodeList.optional(),
  /**
   * Comma-separated `host:port` of Redis Sentinels: the fixed app asks them where the primary
   * of REDIS_SENTINEL_NAME is, and follows a failover, instead of using REDIS_URL.
   */
  REDIS_SENTINELS: nodeList.optional(),
  /** The primary's name as the sentinels know it (`sentinel monitor <name> ...`). */
  REDIS_SENTINEL_NAME: z.string().min(1).default("mymaster"),
  /** The sentinels' own password, when they have one (`requirepass` in sentinel.conf). */
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** The password of every data node (Cluster, Sentinel's primary and replicas, or REDIS_URL's). */
  REDIS_PASSWORD: z.string().min(1).optional(),
  /**
   * A PEM file of the CA that signed the Redis servers' certificates: connects with TLS and
   * trusts that CA (a `rediss://` REDIS_URL alone uses TLS with the system's CAs).
   */
  REDIS_TLS_CA: z.string().min(1).optional(),
  /**
   * A turn is acknowledged only once this many replicas have its write (Redis WAIT). Unset:
   * 1 on Sentinel and on a Cluster with replicas, else 0 (a lone Redis has no replica).
   */
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).optional(),
  /**
   * How long WAIT may take, in ms; fewer replicas by then gives 503 store_write_uncertain. At
   * most 900: WAIT must answer within the client's 1 s command timeout.
   */
  REDIS_WAIT_MS: z.coerce.number().int().min(1).max(900).default(500),
  /** Signs and verifies bearer tokens. Required in production (at least 32 bytes). */
  AUTH_SECRET: z.string().min(1).optional(),
  /** The secret before a rotation: tokens it signed still verify, new tokens use AUTH_SECRET. */
  AUTH_SECRET_PREVIOUS: z.string().min(1).optional(),
  /**
   * Turns one user (tenant + user) may send per minute, counted across every worker and host
   * in Redis; over it, 429 rate_limited. 0 = no limit.
   */
  RATE_LIMIT_TURNS_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(600),
  AGENT_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(5),
  /** A streamed reply of the scripted model: the pause between its chunks (words), in ms. */
  AGENT_CHUNK_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(10),
  /**
   * A streamed turn's events stay readable (resumable, replayable) this long after its last
   * event, in seconds.
   */
  STREAM_TTL_SECONDS: z.coerce.number().int().min(1).max(31_536_000).default(600),
  /**
   * A streamed turn's deltas go to Redis in one command at most once per this many ms; the
   * first one and the last ones go at once (0: each as soon as the previous write is done).
   */
  STREAM_FLUSH_MS: z.coerce.number().int().min(0).max(10_000).default(20),
  /** A turn's stream keeps at most this many events (older ones are trimmed). */
  STREAM_MAX_EVENTS: z.coerce.number().int().min(10).max(10_000_000).default(100_000),
  /** Idle conversations expire from Redis after this many seconds. */
  CONVERSATION_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(7 * 24 * 3600),
  REDIS_KEY_PREFIX: z.string().min(1).default("agent-sandbox:"),
  /** Where file-backed stores keep their JSON files. */
  STATE_DIR: z.string().min(1).default(".runs/state"),
  /**
   * Every store write waits this long before it is applied: an explicit, configurable
   * window for races such as an unawaited write (0 = off).
   */
  STORE_WRITE_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  /**
   * The fixed app gives the agent at most this many earlier messages (the most recent):
   * a bounded context window keeps a turn's cost flat however long the conversation.
   */
  CONTEXT_WINDOW_MESSAGES: z.coerce.number().int().min(1).max(100_000).default(100),
  /** Fixed apps on Redis: what a turn gets while another turn of its conversation runs. */
  TURN_STRATEGY: z.enum(["reject", "enqueue", "off"]).default("enqueue"),
  /**
   * A turn's lease on its conversation, in ms: renewed every third of it while the turn runs,
   * so after a crash the conversation is free again within this long.
   */
  TURN_LEASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
  /** The longest a turn may keep renewing its lease, in ms: a runaway turn is then fenced. */
  TURN_MAX_MS: z.coerce.number().int().min(100).max(86_400_000).default(300_000),
  /** `enqueue`: how long a turn waits for its conversation, in ms. */
  TURN_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** Largest accepted JSON body, in bytes-ish units understood by express.json (e.g. "16kb"). */
  BODY_LIMIT: z.string().default("16kb"),
  /** Longest accepted turn text, in Unicode code points after trimming (an emoji counts one). */
  TEXT_MAX_CHARS: z.coerce.number().int().min(1).max(1_000_000).default(4000),
  /** Which model answers: "scripted" (deterministic, no network) or "openai" (an OpenAI-compatible API). */
  AGENT_MODEL: z.enum(["scripted", "openai"]).default("scripted"),
  /** Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1 for a local Ollama. */
  MODEL_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The model to ask for, e.g. llama3.2. */
  MODEL_NAME: z.string().min(1).optional(),
  /** Sent as `Authorization: Bearer <key>` when set (Ollama needs none). */
  MODEL_API_KEY: z.string().optional(),
  /** Give up on one model reply after this many ms; the turn then fails with 502 model_error. */
  MODEL_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(30_000),
});

/** What to run to make a production secret: printed with the refusal. */
const MAKE_A_SECRET = `node -e "console.log(require('node:crypto').randomBytes(32).toString('base64url'))"`;

/** Settings that only make sense together: checked after each field is valid on its own. */
const EnvSchema = EnvFields.superRefine((env, ctx) => {
  requireProductionSecret(env, ctx);
  requireModelLocation(env, ctx);
  requireOneRedisTopology(env, ctx);
});

/** A Cluster and a Sentinel-run primary are two different Redis deployments: pick one. */
function requireOneRedisTopology(env: z.infer<typeof EnvFields>, ctx: z.RefinementCtx): void {
  if (env.REDIS_CLUSTER_NODES && env.REDIS_SENTINELS) {
    ctx.addIssue({
      code: "custom",
      path: ["REDIS_SENTINELS"],
      message: "set either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both",
    });
  }
}

/** In production anyone who has read this repository must not be able to mint a token. */
function requireProductionSecret(env: z.infer<typeof EnvFields>, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV !== "production") return;
  const problem = (secret: string | undefined) =>
    secret === undefined
      ? "required"
      : secret === DEV_AUTH_SECRET || Buffer.byteLength(secret) < MIN_PRODUCTION_SECRET_BYTES
        ? "too weak"
        : undefined;
  const checks = [
    ["AUTH_SECRET", problem(env.AUTH_SECRET)],
    ["AUTH_SECRET_PREVIOUS", env.AUTH_SECRET_PREVIOUS && problem(env.AUTH_SECRET_PREVIOUS)],
  ] as const;
  for (const [name, found] of checks) {
    if (!found) continue;
    ctx.addIssue({
      code: "custom",
      path: [name],
      message: `${found} when NODE_ENV=production (at least ${MIN_PRODUCTION_SECRET_BYTES} bytes, not the development default); make one with: ${MAKE_A_SECRET}`,
    });
  }
}

/** `AGENT_MODEL=openai` cannot start without knowing where the model is and which one to ask. */
function requireModelLocation(env: z.infer<typeof EnvFields>, ctx: z.RefinementCtx): void {
  if (env.AGENT_MODEL !== "openai") return;
  for (const name of ["MODEL_BASE_URL", "MODEL_NAME"] as const) {
    if (!env[name]) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message:
          "required when AGENT_MODEL=openai (e.g. MODEL_BASE_URL=http://127.0.0.1:11434/v1 MODEL_NAME=llama3.2)",
      });
    }
  }
}

export type AppConfig = z.infer<typeof EnvSchema> & {
  /** Signs new tokens: AUTH_SECRET, or the development default outside production. */
  authSecret: string;
  /** Every secret a token may be signed with: the current one first, then AUTH_SECRET_PREVIOUS. */
  verificationSecrets: string[];
};

/** Reads and validates the environment once; a bad value stops the process with a clear message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid environment: ${problems.join("; ")}`);
  }
  const authSecret = parsed.data.AUTH_SECRET ?? DEV_AUTH_SECRET;
  const previous = parsed.data.AUTH_SECRET_PREVIOUS;
  return {
    ...parsed.data,
    authSecret,
    verificationSecrets: previous === undefined ? [authSecret] : [authSecret, previous],
  };
}

/** Says once, loudly, that the development secret is in use. */
export function warnIfDevSecret(config: AppConfig): void {
  if (config.AUTH_SECRET === undefined) {
    logger.warn(
      "AUTH_SECRET is not set: using the development default secret (never in production)",
    );
  }
}

/** `"127.0.0.1:7000,127.0.0.1:7001"` -> the nodes a cluster or sentinel client starts from. */
export function parseNodeList(nodes: string): { host: string; port: number }[] {
  const parsed = nodes
    .split(",")
    .map((node) => node.trim())
    .filter((node) => node !== "")
    .map((node) => {
      const match = /^(.+):(\d{1,5})$/.exec(node);
      const port = Number(match?.[2]);
      if (!match?.[1] || port < 1 || port > 65535) {
        throw new Error(`"${node}" is not host:port (e.g. 127.0.0.1:7000)`);
      }
      return { host: match[1], port };
    });
  if (parsed.length === 0) throw new Error("no host:port given");
  return parsed;
}
