import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { AgentInputItem } from "@openai/agents-core";
import type { Redis } from "ioredis";
import { userItem } from "../../scenarios/agents-sdk-agent.ts";
import type { ScenarioName } from "../../scenarios/catalogue.ts";
import { agentGraph, humanMessage, threadOf } from "../../scenarios/langgraph-agent.ts";
import { encodeItem, redisSessionKeys } from "../../service/agents-sdk/redis-session.ts";
import type { Turn } from "../../service/chat/chat-service.ts";
import { loadConfig } from "../../service/config.ts";
import type { ChatMessage } from "../../service/contract.ts";
import { RedisCheckpointSaver } from "../../service/langgraph/redis-checkpointer.ts";
import { AssistantAgent } from "../../service/model/agent.ts";
import { conversationKeys } from "../../service/store/commands.ts";

/**
 * A conversation's history written straight into Redis, in the shape the scenario's fixed
 * app stores it, so a turn can be timed on a long history without sending it over HTTP.
 */
export interface HistoryPreload {
  /** Writes `length` messages (user and assistant in turn) under the conversation key. */
  write(redis: Redis, key: string, length: number): Promise<void>;
  /** Removes every key the conversation has in Redis. */
  remove(redis: Redis, key: string): Promise<void>;
}

/** The apps' own idle expiry (CONVERSATION_TTL_SECONDS), as their writes would set it. */
const TTL_SECONDS = loadConfig({}).CONVERSATION_TTL_SECONDS;
const BATCH = 1000;
const SERVED_BY = { workerId: 0, pid: 0, hostname: "preload" };

/** The preload for a scenario's fixed app: its messages list, checkpoint or session. */
export function historyPreloadFor(scenario: ScenarioName): HistoryPreload {
  if (scenario === "langgraph") return CHECKPOINT_PRELOAD;
  if (scenario === "openai-agents") return SESSION_PRELOAD;
  return MESSAGES_PRELOAD;
}

/** The i-th message's turn: the same text in every store, so their bytes compare. */
function preloadTurn(key: string, i: number): Turn {
  const text = `message ${i}: ${"lorem ipsum dolor sit amet ".repeat(4)}`;
  return {
    key,
    conversationId: "preload",
    turnId: `pre-${Math.floor(i / 2)}`,
    text,
    servedBy: SERVED_BY,
  };
}

const removeConversation = (redis: Redis, key: string, extra: string[] = []) =>
  redis.del(...Object.values(conversationKeys(key)), ...extra);

/** The conversation store's list of ChatMessage JSON (fixed/memory, naive-save). */
const MESSAGES_PRELOAD: HistoryPreload = {
  async write(redis, key, length) {
    const list = conversationKeys(key).messages;
    await inBatches(length, async (from, to) => {
      const batch: string[] = [];
      for (let i = from; i < to; i++) {
        const { text, turnId } = preloadTurn(key, i);
        const role = i % 2 === 0 ? "user" : "assistant";
        const message: ChatMessage = {
          role,
          content: text,
          turnId,
          servedBy: SERVED_BY,
          at: new Date(0).toISOString(),
        };
        batch.push(JSON.stringify(message));
      }
      await redis.rpush(list, ...batch);
    });
    await redis.expire(list, TTL_SECONDS);
  },
  remove: (redis, key) => removeConversation(redis, key).then(() => undefined),
};

/** The Agents SDK session's items, canonical JSON as RedisSession stores them (fixed/openai-agents). */
const SESSION_PRELOAD: HistoryPreload = {
  async write(redis, key, length) {
    const { items } = redisSessionKeys(key);
    await inBatches(length, async (from, to) => {
      const batch: string[] = [];
      for (let i = from; i < to; i++) batch.push(encodeItem(sessionItem(key, i)));
      await redis.rpush(items, ...batch);
    });
    await redis.expire(items, TTL_SECONDS);
  },
  async remove(redis, key) {
    await removeConversation(redis, key, Object.values(redisSessionKeys(key)));
  },
};

/** A user item as the scenario tags it, or an assistant item as its model answers. */
function sessionItem(key: string, i: number): AgentInputItem {
  const turn = preloadTurn(key, i);
  if (i % 2 === 0) return userItem(turn);
  return {
    type: "message",
    role: "assistant",
    status: "completed",
    content: [{ type: "output_text", text: turn.text }],
    providerData: { turnId: turn.turnId, servedBy: SERVED_BY, at: new Date(0).toISOString() },
  };
}

/**
 * One checkpoint holding the whole thread (fixed/langgraph): the scenario's graph, compiled
 * with a plain RedisCheckpointSaver as the app configures it (no prefix, the conversation key
 * as thread_id), updated as if its agent node had produced the messages.
 */
const CHECKPOINT_PRELOAD: HistoryPreload = {
  async write(redis, key, length) {
    const graph = agentGraph(new AssistantAgent("preload", { AGENT_LATENCY_MS: 0 }), 1).compile({
      checkpointer: checkpointSaver(redis),
    });
    const messages = Array.from({ length }, (_, i) => threadMessage(key, i));
    await graph.updateState(threadOf(key), { messages }, "agent");
  },
  async remove(redis, key) {
    await checkpointSaver(redis).deleteThread(key);
    await removeConversation(redis, key);
  },
};

function checkpointSaver(redis: Redis): RedisCheckpointSaver {
  return new RedisCheckpointSaver({
    redis,
    keyPrefix: "",
    ttlSeconds: TTL_SECONDS,
    forkGuard: true,
  });
}

/** A human message as the scenario tags it, or an AI message carrying the same tag. */
function threadMessage(key: string, i: number): BaseMessage {
  const turn = preloadTurn(key, i);
  if (i % 2 === 0) return humanMessage(turn);
  const tag = { turnId: turn.turnId, servedBy: SERVED_BY, at: new Date(0).toISOString() };
  return new AIMessage({ content: turn.text, additional_kwargs: tag });
}

/** Calls `write` on [from, to) slices of at most BATCH: one RPUSH per 1,000 messages. */
async function inBatches(length: number, write: (from: number, to: number) => Promise<void>) {
  for (let from = 0; from < length; from += BATCH) {
    await write(from, Math.min(length, from + BATCH));
  }
}
