import { randomBytes } from "node:crypto";
import type { BaseCheckpointSaver } from "@langchain/langgraph-checkpoint";
import { Redis } from "ioredis";
import { sandboxAgent, userItem } from "../../scenarios/agents-sdk-agent.ts";
import { agentGraph, humanMessage, runOf } from "../../scenarios/langgraph-agent.ts";
import { RedisSession, redisSessionKeys } from "../../service/agents-sdk/redis-session.ts";
import { TurnSession } from "../../service/agents-sdk/turn-session.ts";
import { conversationKey } from "../../service/auth/conversation-key.ts";
import type { Turn } from "../../service/chat/chat-service.ts";
import { loadConfig } from "../../service/config.ts";
import { RedisCheckpointSaver } from "../../service/langgraph/redis-checkpointer.ts";
import { TurnCheckpointer } from "../../service/langgraph/turn-checkpointer.ts";
import { AssistantAgent } from "../../service/model/agent.ts";
import { watchCommands } from "../processes/redis-monitor.ts";
import { historyPreloadFor } from "./preload.ts";
import { type Traffic, trafficDuring } from "./redis-traffic.ts";
import { describeCommand } from "./round-trips.ts";

/** What one turn wrote, counted in process around the framework's own calls. */
export interface TurnWritesRow {
  label: string;
  framework: "langgraph" | "openai-agents";
  /** LangGraph: `put` calls (checkpoints), `putWrites` calls (sets of pending writes). */
  checkpoints: number;
  pendingWrites: number;
  /** LangGraph: each put's `newVersions` channels, in order (one channel value written each). */
  channelsPerPut: string[][];
  /** Agents SDK: items the turn added to the session's list (LLEN after - before). */
  items: number;
  /** The Redis commands of a turn like it (the next one, under MONITOR), in order. */
  commands: string[];
  /** Bytes of the counted turn to and from Redis, reads included. */
  traffic: Traffic;
  /** Messages the thread or session held before the turns. */
  historyLength: number;
}

/** What the counted turn's framework calls did. */
interface Tally {
  checkpoints: number;
  pendingWrites: number;
  channelsPerPut: string[][];
}

/** What every way of running a turn shares: a client, the scenario's graph and agent. */
interface TurnDeps {
  redis: Redis;
  builder: ReturnType<typeof agentGraph>;
  sdk: ReturnType<typeof sandboxAgent>;
  contextWindow: number;
  ttlSeconds: number;
}

/** One way of running a turn of the scenario's agent against Redis. */
interface TurnSetup {
  label: string;
  framework: TurnWritesRow["framework"];
  runTurn(deps: TurnDeps, turn: Turn, tally: Tally): Promise<void>;
}

/**
 * The adapters as a plain app would use them, next to what the fixed apps do: LangGraph's
 * default durability writes as the graph steps, `durability: "exit"` once at the end.
 */
const SETUPS: readonly TurnSetup[] = [
  {
    label: "LangGraph · RedisCheckpointSaver, default durability",
    framework: "langgraph",
    async runTurn(deps, turn, tally) {
      const checkpointer = countingCheckpoints(new RedisCheckpointSaver(saverOptions(deps)), tally);
      const graph = deps.builder.compile({ checkpointer });
      await graph.invoke({ messages: [humanMessage(turn)] }, runOf(turn));
    },
  },
  {
    label: "LangGraph · TurnCheckpointer, durability exit (fixed/langgraph)",
    framework: "langgraph",
    async runTurn(deps, turn, tally) {
      const checkpointer = countingCheckpoints(new TurnCheckpointer(saverOptions(deps)), tally);
      const graph = deps.builder.compile({ checkpointer });
      const config = { ...runOf(turn), durability: "exit" as const };
      const state = await graph.invoke({ messages: [humanMessage(turn)] }, config);
      await checkpointer.commit(undefined, state.messages.length - 2);
    },
  },
  {
    label: "Agents SDK · RedisSession, reads the whole history",
    framework: "openai-agents",
    async runTurn({ redis, sdk, ttlSeconds }, turn) {
      const session = new RedisSession({ redis, key: turn.key, ttlSeconds });
      await sdk.runner.run(sdk.agentFor(turn), [userItem(turn)], { session });
    },
  },
  {
    label: "Agents SDK · TurnSession, reads the window (fixed/openai-agents)",
    framework: "openai-agents",
    async runTurn({ redis, sdk, contextWindow, ttlSeconds }, turn) {
      const session = new TurnSession({
        redis,
        key: turn.key,
        recentItems: contextWindow,
        ttlSeconds,
      });
      await sdk.runner.run(sdk.agentFor(turn), [userItem(turn)], { session });
      await session.commit(undefined, session.historyLength ?? 0);
    },
  },
];

/** The options fixed/langgraph gives its savers: the conversation key is the thread id. */
function saverOptions({ redis, ttlSeconds }: TurnDeps) {
  return { redis, keyPrefix: "", ttlSeconds, forkGuard: true };
}

/** Counts the saver's `put` and `putWrites` calls (what LangGraph asks it to store). */
function countingCheckpoints<T extends BaseCheckpointSaver>(saver: T, tally: Tally): T {
  const put = saver.put.bind(saver);
  const putWrites = saver.putWrites.bind(saver);
  saver.put = (config, checkpoint, metadata, newVersions) => {
    tally.checkpoints += 1;
    tally.channelsPerPut.push(Object.keys(newVersions));
    return put(config, checkpoint, metadata, newVersions);
  };
  saver.putWrites = (config, writes, taskId, taskPath) => {
    tally.pendingWrites += 1;
    return putWrites(config, writes, taskId, taskPath);
  };
  return saver;
}

/**
 * One turn of each setup, in this process, on a thread or session already holding
 * `historyLength` messages (preload.ts), on a Redis nothing else uses meanwhile: a first turn
 * loads the scripts, the second is counted (calls, items, bytes), the third is watched with
 * MONITOR for its commands (MONITOR's own traffic would spoil the bytes).
 */
export async function measureTurnWrites(
  url: string,
  historyLength = 100,
): Promise<TurnWritesRow[]> {
  const config = loadConfig({ AGENT_LATENCY_MS: "0" });
  const agent = new AssistantAgent("assistant", config);
  const deps: TurnDeps = {
    redis: new Redis(url),
    builder: agentGraph(agent, config.CONTEXT_WINDOW_MESSAGES),
    sdk: sandboxAgent(agent, config.CONTEXT_WINDOW_MESSAGES),
    contextWindow: config.CONTEXT_WINDOW_MESSAGES,
    ttlSeconds: config.CONVERSATION_TTL_SECONDS,
  };
  try {
    const rows: TurnWritesRow[] = [];
    for (const setup of SETUPS) rows.push(await measureSetup(url, deps, setup, historyLength));
    return rows;
  } finally {
    deps.redis.disconnect();
  }
}

async function measureSetup(
  url: string,
  deps: TurnDeps,
  setup: TurnSetup,
  historyLength: number,
): Promise<TurnWritesRow> {
  const id = `writes-${randomBytes(3).toString("hex")}`;
  const key = conversationKey("bench-writes:", { tenant: "bench", user: "writes" }, id);
  const turnOf = (n: number): Turn => ({
    key,
    conversationId: id,
    turnId: `${id}-${n}`,
    text: `turn ${n}`,
    servedBy: { workerId: 0, pid: process.pid, hostname: "bench" },
  });
  const preload = historyPreloadFor(setup.framework);
  await preload.write(deps.redis, key, historyLength);
  try {
    await setup.runTurn(deps, turnOf(0), emptyTally());
    const tally = emptyTally();
    const itemsBefore = await deps.redis.llen(redisSessionKeys(key).items);
    const { traffic } = await trafficDuring(url, () => setup.runTurn(deps, turnOf(1), tally));
    const items = (await deps.redis.llen(redisSessionKeys(key).items)) - itemsBefore;
    const commands = await commandsOf(url, key, () => setup.runTurn(deps, turnOf(2), emptyTally()));
    const { label, framework } = setup;
    return { label, framework, ...tally, items, commands, traffic, historyLength };
  } finally {
    await preload.remove(deps.redis, key);
  }
}

function emptyTally(): Tally {
  return { checkpoints: 0, pendingWrites: 0, channelsPerPut: [] };
}

/** The commands clients sent about `key` while `action` ran. */
async function commandsOf(url: string, key: string, action: () => Promise<void>) {
  const watcher = await watchCommands(url, (args) => args.some((a) => a.includes(key)));
  try {
    const { commands } = await watcher.during(action);
    return commands.map(describeCommand);
  } finally {
    watcher.stop();
  }
}
