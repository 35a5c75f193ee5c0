/**
 * What the fix costs, measured side by side in one run: the in-memory broken app (the cost
 * floor), the fixed app (Redis), and the whole-history-save pattern; then the framework
 * scenarios (LangGraph, the Agents SDK), each fixed app against its broken twin; then streamed
 * replies, their stream in worker memory against a Redis Stream, and what batching saves.
 *   npm run bench
 *   npm run bench -- --rounds 5 --only throughput,round-trips --json .runs/bench.json
 *   npm run bench -- --only frameworks
 *   npm run bench -- --only streaming
 */
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import pc from "picocolors";
import { contendersFor, startBenchApps } from "../lab/bench/bench-apps.ts";
import { BENCH_HELP, benchFlagSpec, parseBenchFlags } from "../lab/bench/cli-options.ts";
import { measureFrameworks } from "../lab/bench/frameworks.ts";
import { measureGrowth } from "../lab/bench/growth.ts";
import { checkTtl, measureWorkerMemory } from "../lab/bench/memory.ts";
import {
  renderFrameworks,
  renderGrowth,
  renderMemory,
  renderRoundTrips,
  renderThroughput,
} from "../lab/bench/render.ts";
import { renderStreaming } from "../lab/bench/render-streaming.ts";
import { measureRoundTrips } from "../lab/bench/round-trips.ts";
import { measureStreaming } from "../lab/bench/streaming.ts";
import { measureThroughput } from "../lab/bench/throughput.ts";
import { askRedis } from "../lab/processes/ask-redis.ts";
import { writeJson } from "../lab/report/write-json.ts";

const { values } = parseArgs({ options: benchFlagSpec });
if (values.help) {
  console.log(BENCH_HELP);
  process.exit(0);
}
const flags = parseBenchFlags(values);
const note = (message: string) => console.log(pc.dim(message));
/** Streamed turns per load run of the streaming section (each a new conversation). */
const STREAMED_TURNS_PER_RUN = 160;

// Only the apps the chosen sections measure: an idle cluster still takes memory and start-up.
const contenders = contendersFor(flags.only);
const env = await startBenchApps({
  workers: flags.workers,
  agentLatencyMs: flags["latency-ms"],
  contenders,
});
const result: Record<string, unknown> = {};
try {
  const serverInfo = String(await askRedis(env.redis.url, "INFO", "server"));
  const redisInfo = serverInfo.match(/redis_version:(\S+)/)?.[1];
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: redisInfo,
  };
  result.machine = machine;
  result.settings = { ...flags, contenders: contenders.map((c) => c.label) };
  console.log(
    pc.bold(
      `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GB, Node ${machine.node}, Redis ${machine.redis}`,
    ),
  );
  // The streaming section runs a load of its own (it says which): the main one is not its.
  const mainLoad = flags.only.some((section) => section !== "streaming")
    ? `${flags.conversations} conversations x ${flags.turns} turns over ${flags.connections} keep-alive connections, `
    : "";
  console.log(
    pc.dim(
      `Load: ${mainLoad}${flags.workers} workers per app, model latency ${flags["latency-ms"]} ms`,
    ),
  );

  if (flags.only.includes("throughput")) {
    const rows = await measureThroughput(env, {
      rounds: flags.rounds,
      conversations: flags.conversations,
      turns: flags.turns,
      connections: flags.connections,
      workers: flags.workers,
      onRun: (label, round, tps) => note(`round ${round}: ${label} ${Math.round(tps)} turns/s`),
    });
    result.throughput = rows;
    console.log(`\n${renderThroughput(rows, flags.rounds)}\n`);
  }
  if (flags.only.includes("round-trips")) {
    const rows = await measureRoundTrips(env);
    result.roundTrips = rows;
    console.log(`${renderRoundTrips(rows)}\n`);
  }
  if (flags.only.includes("growth")) {
    note("growth: preloading histories of 10 ... 10,000 messages");
    const rows = await measureGrowth(env, [
      "fixed · history in Redis",
      "naive save · history in Redis",
    ]);
    result.growth = rows;
    console.log(`${renderGrowth(rows)}\n`);
  }
  if (flags.only.includes("memory")) {
    note("memory: writing conversations in batches, sampling worker memory after each");
    const memory = await measureWorkerMemory(
      env,
      ["broken · history in worker memory", "fixed · history in Redis"],
      {
        workers: flags.workers,
        batches: 3,
        conversationsPerBatch: 2000,
        turns: 2,
      },
    );
    note("memory: checking that a short TTL removes idle conversations");
    const ttl = await checkTtl(env);
    result.memory = { ...memory, ttl };
    console.log(`${renderMemory(memory.rows, memory.redis, ttl)}\n`);
  }
  if (flags.only.includes("frameworks")) {
    const frameworks = await measureFrameworks(env, {
      rounds: flags.rounds,
      conversations: flags.conversations,
      turns: flags.turns,
      connections: flags.connections,
      workers: flags.workers,
      onRun: (label, round, tps) => note(`round ${round}: ${label} ${Math.round(tps)} turns/s`),
      note,
    });
    result.frameworks = frameworks;
    console.log(`\n${renderFrameworks(frameworks, flags.rounds)}\n`);
  }
  if (flags.only.includes("streaming")) {
    const streaming = await measureStreaming(env, {
      rounds: flags.rounds,
      agentLatencyMs: flags["latency-ms"],
      connections: flags.connections,
      turnsPerRun: STREAMED_TURNS_PER_RUN,
      onRun: (label, round, run) =>
        note(`round ${round}: ${label} done p50 ${Math.round(run.doneP50Ms)} ms`),
      note,
    });
    result.streaming = streaming;
    console.log(`\n${renderStreaming(streaming, flags.rounds)}\n`);
  }
  if (flags.json) {
    await writeJson(flags.json, result);
    note(`JSON written to ${flags.json}`);
  }
} finally {
  await env.stop();
}
