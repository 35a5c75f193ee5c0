import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { ChatService, ServiceDeps } from "../service/chat/chat-service.ts";
import type { AppConfig } from "../service/config.ts";
import type { AppName } from "../service/contract.ts";
import { createApp } from "../service/http/create-app.ts";
import { gracefulClose } from "../service/http/graceful-close.ts";
import type { ConversationStore } from "../service/store/conversation-store.ts";
import {
  createStoreClient,
  type RedisClient,
  waitUntilReady,
} from "../service/store/redis-client.ts";
import { RedisConversationStore } from "../service/store/redis-store.ts";
import { TurnGate } from "../service/turns/turn-gate.ts";
import { loadChatServiceClass, type ScenarioName } from "./catalogue.ts";
import { DelayedWriteStore } from "./delayed-writes.ts";
import { FileConversationStore } from "./file-store.ts";

const STORE_CONNECT_WAIT_MS = 5000;

export interface RunningServer {
  server: Server;
  port: number;
  service: ChatService;
  /** Stops accepting connections, lets in-flight requests finish, then closes the store. */
  stop(): Promise<void>;
}

/** Dependencies for one worker, plus a promise that settles once any opened store is connected. */
function serviceDeps(config: AppConfig): {
  deps: ServiceDeps;
  connected: () => Promise<void>;
  redisClient: () => RedisClient | undefined;
} {
  let store: ConversationStore | undefined;
  let client: RedisClient | undefined;
  let connecting: Promise<void> = Promise.resolve();
  const withDelay = (inner: ConversationStore) =>
    config.STORE_WRITE_DELAY_MS > 0
      ? new DelayedWriteStore(inner, config.STORE_WRITE_DELAY_MS)
      : inner;
  const deps: ServiceDeps = {
    config,
    redisStore() {
      if (!store) {
        // One Redis at REDIS_URL, or a Redis Cluster when REDIS_CLUSTER_NODES is set.
        client = createStoreClient(config);
        connecting = waitUntilReady(client, STORE_CONNECT_WAIT_MS);
        store = withDelay(new RedisConversationStore(client, config.CONVERSATION_TTL_SECONDS));
      }
      return store;
    },
    fileStore(directory) {
      return withDelay(new FileConversationStore(resolve(directory)));
    },
  };
  return { deps, connected: () => connecting, redisClient: () => client };
}

/** Builds the app for one process and listens on `port` (shared by all cluster workers). */
export async function startAppServer(
  app: AppName,
  scenario: ScenarioName,
  config: AppConfig,
  port: number,
): Promise<RunningServer> {
  const ChatServiceClass = await loadChatServiceClass(app, scenario);
  const { deps, connected, redisClient } = serviceDeps(config);
  const service = new ChatServiceClass(deps);
  const client = redisClient();
  // Fixed apps on Redis run one turn per conversation at a time, with idempotent turnIds.
  const turnGate =
    app === "fixed" && client && config.TURN_STRATEGY !== "off"
      ? new TurnGate(client, {
          strategy: config.TURN_STRATEGY,
          leaseMs: config.TURN_LEASE_MS,
          waitMs: config.TURN_WAIT_MS,
          ttlSeconds: config.CONVERSATION_TTL_SECONDS,
          contextWindow: config.CONTEXT_WINDOW_MESSAGES,
        })
      : undefined;
  // Give the store a moment to connect; if it cannot, listen anyway: turns answer 503
  // and /healthz shows the store unreachable, while the worker stays alive.
  await connected();
  const server = createServer(createApp({ app, scenario, service, config, turnGate }));
  const closeServer = gracefulClose(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const stop = async () => {
    await closeServer();
    await service.close();
  };
  return { server, port: (server.address() as AddressInfo).port, service, stop };
}
