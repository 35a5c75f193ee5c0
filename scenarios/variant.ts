import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Store } from "express-rate-limit";
import type { ChatService, ServiceDeps } from "../service/chat/chat-service.ts";
import type { ConversationStore } from "../service/store/conversation-store.ts";
import type { RedisClient } from "../service/store/redis-client.ts";
import type { ReplicaWait } from "../service/store/replica-wait.ts";
import type { RedisTurnStreamsOptions } from "../service/streams/redis-turn-streams.ts";
import type { TurnStreams } from "../service/streams/turn-streams.ts";
import type { AppName, ScenarioName } from "./catalogue.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** What a variant may use: the service's deps, plus the file store some scenarios teach with. */
export interface VariantDeps extends ServiceDeps {
  /** A store keeping one JSON file per conversation under `directory`. */
  fileStore(directory: string): ConversationStore;
  /** The worker's Redis connection, the one `redisStore()` uses (opened on first use). */
  redisClient(): RedisClient;
  /**
   * How many replicas each write to that Redis must reach before it counts as stored
   * (REDIS_WAIT_REPLICAS, or 1 on Sentinel and on a Cluster with replicas): what
   * `redisStore()` waits for, for a variant that writes to Redis itself.
   */
  replicaWait(): ReplicaWait;
  /** How streamed turns' events are kept in Redis; `leased` when this app runs a turn gate. */
  streamSettings: RedisTurnStreamsOptions;
}

/** The constructor every `broken/<scenario>/chat-service.ts` and `fixed/<scenario>/...` exports. */
export type ChatServiceClass = new (deps: VariantDeps) => ChatService;

/** What a variant's module exports. */
export interface VariantModule {
  AgentChatService: ChatServiceClass;
  /**
   * Where the variant counts each user's turns for the rate limit (the rate-limit scenario).
   * Absent: the fixed apps on Redis count in Redis, the others have no limit.
   */
  turnLimitStore?: (deps: VariantDeps) => Store;
  /**
   * Where the variant keeps streamed turns' events (the streaming scenario). Absent: the fixed
   * apps on Redis keep them in Redis, the others in the producing worker's memory.
   */
  turnStreams?: (deps: VariantDeps) => TurnStreams;
}

/** Folder of the learner's exercise copies; tests point EXERCISES_DIR elsewhere. */
export function exercisesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.EXERCISES_DIR ?? join(ROOT, "exercises");
}

/** The chat-service module of one variant: `broken/<s>/`, `fixed/<s>/` or the exercise copy. */
export function serviceModulePath(app: AppName, scenario: ScenarioName): string {
  const folder = app === "exercise" ? exercisesDir() : join(ROOT, app);
  return join(folder, scenario, "chat-service.ts");
}

export async function loadVariant(app: AppName, scenario: ScenarioName): Promise<VariantModule> {
  const path = serviceModulePath(app, scenario);
  if (!existsSync(path)) throw new Error(`no chat service at ${path}`);
  return (await import(pathToFileURL(path).href)) as VariantModule;
}
