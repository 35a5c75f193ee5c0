/**
 * What the fix costs, measured side by side in one run: the in-memory broken app (the cost
 * floor), the fixed app (Redis), and the whole-history-save pattern.
 *   npm run bench
 *   npm run bench -- --rounds 5 --only throughput,round-trips --json .runs/bench.json
 */
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import pc from "picocolors";
import { CONTENDERS, startBenchApps } from "../lab/bench/bench-apps.ts";
import { BENCH_HELP, benchFlagSpec, parseBenchFlags } from "../lab/bench/cli-options.ts";
import { measureGrowth } from "../lab/bench/growth.ts";
import { checkTtl, measureWorkerMemory } from "../lab/bench/memory.ts";
import {
  renderGrowth,
  renderMemory,
  renderRoundTrips,
  renderThroughput,
} from "../lab/bench/render.ts";
import { measureRoundTrips } from "../lab/bench/round-trips.ts";
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

const env = await startBenchApps({ workers: flags.workers, agentLatencyMs: flags["latency-ms"] });
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
  result.settings = { ...flags, contenders: CONTENDERS.map((c) => c.label) };
  console.log(
    pc.bold(
      `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GB, Node ${machine.node}, Redis ${machine.redis}`,
    ),
  );
  console.log(
    pc.dim(
      `Load: ${flags.conversations} conversations x ${flags.turns} turns over ${flags.connections} keep-alive connections, ${flags.workers} workers per app, model latency ${flags["latency-ms"]} ms`,
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
  if (flags.json) {
    await writeJson(flags.json, result);
    note(`JSON written to ${flags.json}`);
  }
} finally {
  await env.stop();
}
