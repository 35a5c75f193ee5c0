/**
 * The service's public face: what a reader copies into their own app. Everything a chat
 * service needs to keep no conversation state in the process: the HTTP contract, verified
 * identities and the state key, the Redis store and its Lua scripts, the turn gate that
 * fences each turn, the streams of replies being written, the per-user turn limit, the metrics,
 * the errors and their statuses, the cluster runner. The framework adapters are imported from their own folders, so an app that
 * uses neither framework never loads it: service/langgraph/ (a LangGraph checkpointer) and
 * service/agents-sdk/ (an OpenAI Agents SDK session).
 */

export { conversationKey } from "./auth/conversation-key.ts";
export { issueToken, type VerifyResult, verifyToken } from "./auth/tokens.ts";
export {
  assistantMessage,
  type ChatService,
  type ConversationRef,
  type HistoryPage,
  type HistoryPageRequest,
  historyPageOf,
  type ServiceDeps,
  type Turn,
  type TurnResult,
  userMessage,
} from "./chat/chat-service.ts";
export { StoredChatService } from "./chat/stored-chat-service.ts";
export { type ClusterOptions, runCluster } from "./cluster.ts";
export {
  type AppConfig,
  loadConfig,
  MIN_PRODUCTION_SECRET_BYTES,
  warnIfDevSecret,
} from "./config.ts";
export type {
  ChatMessage,
  ErrorResponse,
  HealthResponse,
  Identity,
  MessagesPageResponse,
  MessagesResponse,
  ServedBy,
  TurnResponse,
} from "./contract.ts";
export {
  ConversationBusyError,
  ModelError,
  RateLimitedError,
  ServiceError,
  type ServiceErrorCode,
  StoreUnavailableError,
  StoreWriteUncertainError,
  TurnFencedError,
  TurnInProgressError,
} from "./errors.ts";
export { type AppOptions, createApp } from "./http/create-app.ts";
export { SERVICE_ERROR_STATUS } from "./http/error-handler.ts";
export { HttpError } from "./http/http-error.ts";
export { rateLimitKey, turnRateLimit } from "./http/turn-rate-limit.ts";
export { configureLogging, logger } from "./logger.ts";
export { serveClusterMetrics } from "./metrics/cluster-metrics.ts";
export {
  ServiceMetrics,
  type ServiceMetricsOptions,
  type TurnOutcome,
  turnOutcome,
} from "./metrics/service-metrics.ts";
export { AssistantAgent } from "./model/agent.ts";
export { createModelClient } from "./model/create-model-client.ts";
export type { ModelClient } from "./model/model-client.ts";
export { type RunningServer, startServer } from "./server.ts";
export type {
  ConversationStore,
  Fence,
  RecentHistory,
  StreamDone,
} from "./store/conversation-store.ts";
export {
  createRedisClient,
  createRedisClusterClient,
  createRedisSentinelClient,
  createStoreClient,
  type RedisAccess,
  type RedisClient,
  type RedisSettings,
  redisAccess,
  waitUntilReady,
} from "./store/redis-client.ts";
export { RedisConversationStore } from "./store/redis-store.ts";
export {
  NO_REPLICA_WAIT,
  ReplicasBehindError,
  type ReplicaWait,
  replicaWaitFor,
} from "./store/replica-wait.ts";
export { RedisTurnLimitStore, turnLimitPrefix } from "./store/turn-limit-store.ts";
export {
  RedisTurnStreams,
  type RedisTurnStreamsOptions,
  turnStreamSettings,
} from "./streams/redis-turn-streams.ts";
export type {
  StreamEvent,
  StreamFence,
  StreamProducer,
  StreamRef,
  TurnStreams,
} from "./streams/turn-streams.ts";
export {
  commitTurn,
  LeasedConversationStore,
  type TurnLease,
  type TurnRecord,
  turnRecordOf,
} from "./turns/leased-store.ts";
export {
  type GateOutcome,
  TurnGate,
  type TurnGateOptions,
  type TurnStrategy,
  turnGateSettings,
} from "./turns/turn-gate.ts";
