import cluster from "node:cluster";
import { resolve } from "node:path";
import type { Store } from "express-rate-limit";
import type { AppConfig } from "../service/config.ts";
import { ServiceMetrics } from "../service/metrics/service-metrics.ts";
import { type RunningServer, startServer } from "../service/server.ts";
import type { ConversationStore } from "../service/store/conversation-store.ts";
import {
  createStoreClient,
  type RedisClient,
  waitUntilReady,
} from "../service/store/redis-client.ts";
import { RedisConversationStore } from "../service/store/redis-store.ts";
import {
  NO_REPLICA_WAIT,
  type ReplicaWait,
  replicaWaitFor,
} from "../service/store/replica-wait.ts";
import { RedisTurnLimitStore, turnLimitPrefix } from "../service/store/turn-limit-store.ts";
import { RedisTurnStreams, turnStreamSettings } from "../service/streams/redis-turn-streams.ts";
import type { TurnStreams } from "../service/streams/turn-streams.ts";
import { TurnGate, turnGateSettings } from "../service/turns/turn-gate.ts";
import { type AppName, backendOf, runsTurnGate, type ScenarioName } from "./catalogue.ts";
import { DelayedWriteStore } from "./delayed-writes.ts";
import { FileConversationStore } from "./file-store.ts";
import { loadVariant, type VariantDeps } from "./variant.ts";
import { WorkerMemoryTurnStreams } from "./worker-memory-streams.ts";

const STORE_CONNECT_WAIT_MS = 5000;

/** The stores one worker hands its variant: opened on first use, so a memory variant opens none. */
class WorkerStores {
  client: RedisClient | undefined;
  redis: ConversationStore | undefined;
  readonly deps: VariantDeps;
  /** Decided by connect(): how many replicas a write waits for. */
  private replicaWait: ReplicaWait = NO_REPLICA_WAIT;
  private connected = false;

  /** @param gated whether the app runs a turn gate (its streams' producers hold leases) */
  constructor(
    private readonly config: AppConfig,
    gated: boolean,
  ) {
    this.deps = {
      config,
      redisStore: () => this.redisStore(),
      redisClient: () => this.redisClient(),
      replicaWait: () => this.replicaWait,
      fileStore: (directory) => this.withRaceWindow(new FileConversationStore(resolve(directory))),
      streamSettings: turnStreamSettings(config, gated && turnGateSettings(config) !== undefined),
    };
  }

  private redisClient(): RedisClient {
    // One Redis at REDIS_URL, or a Redis Cluster when REDIS_CLUSTER_NODES is set.
    this.client ??= createStoreClient(this.config);
    return this.client;
  }

  /**
   * Opens the Redis connection before the variant is built, and decides the replica wait
   * (a Cluster client knows its replicas once ready). If Redis does not answer in time the
   * worker listens anyway: turns answer 503 and /healthz shows the store unreachable.
   */
  async connect(): Promise<void> {
    if (this.connected) return;
    this.connected = true;
    const client = this.redisClient();
    await waitUntilReady(client, STORE_CONNECT_WAIT_MS);
    this.replicaWait = await replicaWaitFor(client, this.config);
  }

  private redisStore(): ConversationStore {
    if (!this.redis) {
      const ttl = this.config.CONVERSATION_TTL_SECONDS;
      const store = new RedisConversationStore(this.redisClient(), ttl, this.replicaWait);
      this.redis = this.withRaceWindow(store);
    }
    return this.redis;
  }

  /** Streamed turns' events: in Redis for the fixed apps on Redis, else in the worker's memory. */
  defaultTurnStreams(app: AppName, scenario: ScenarioName): TurnStreams {
    if (app === "fixed" && backendOf(app, scenario) === "redis") {
      return new RedisTurnStreams(this.redisClient(), this.deps.streamSettings);
    }
    return new WorkerMemoryTurnStreams(this.config.STREAM_TTL_SECONDS);
  }

  /** Every worker and host counts a user's turns in the same Redis key. */
  sharedTurnLimitStore(): Store {
    return new RedisTurnLimitStore(this.redisClient(), turnLimitPrefix(this.config));
  }

  /** STORE_WRITE_DELAY_MS: the explicit race window some scenarios need (0 = none). */
  private withRaceWindow(store: ConversationStore): ConversationStore {
    const delayMs = this.config.STORE_WRITE_DELAY_MS;
    return delayMs > 0 ? new DelayedWriteStore(store, delayMs) : store;
  }

  /** The turn gate over the Redis store, for a variant that runs one (see runsTurnGate). */
  turnGate(): TurnGate | undefined {
    const settings = turnGateSettings(this.config);
    if (!settings) return undefined;
    if (!this.client || !this.redis) {
      throw new Error(
        "a variant that runs a turn gate keeps its conversations in deps.redisStore()",
      );
    }
    const { replicaWait } = this;
    return new TurnGate({ redis: this.client, store: this.redis, replicaWait, ...settings });
  }
}

/** Builds one variant's app in this process and listens on `port` (shared by cluster workers). */
export async function startVariant(
  app: AppName,
  scenario: ScenarioName,
  config: AppConfig,
  port: number,
): Promise<RunningServer> {
  const variant = await loadVariant(app, scenario);
  const gated = runsTurnGate(app, scenario);
  const stores = new WorkerStores(config, gated);
  if (backendOf(app, scenario) === "redis") await stores.connect();
  const service = new variant.AgentChatService(stores.deps);
  const turnGate = gated ? stores.turnGate() : undefined;
  const turnStreams =
    variant.turnStreams?.(stores.deps) ?? stores.defaultTurnStreams(app, scenario);
  const turnLimitStore =
    variant.turnLimitStore?.(stores.deps) ?? (gated ? stores.sharedTurnLimitStore() : undefined);
  // A variant that opened Redis only now (outside its backend) gets a moment to connect.
  if (stores.client) await stores.connect();
  // Under runCluster: a scrape of /metrics answers the sum over every worker.
  const metrics = new ServiceMetrics({ app, scope: cluster.isWorker ? "cluster" : "process" });
  const options = { app, scenario, service, config, turnGate, turnStreams, turnLimitStore };
  return startServer({ ...options, metrics, port });
}
