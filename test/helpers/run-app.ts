import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DemoOptions, type DemoResult, runDemo } from "../../lab/learn/demo/run-demo.ts";
import type { LoadFlags } from "../../lab/load/cli-options.ts";
import type { AppName, ScenarioName } from "../../scenarios/catalogue.ts";

/** Runs exactly what `npm run demo:<app>` runs (real cluster, real Redis, real HTTP). */
export function runApp(
  app: AppName,
  flags: Partial<LoadFlags> & Pick<DemoOptions, "redisCluster"> = {},
  scenario: ScenarioName = "memory",
  note?: (message: string) => void,
  env?: Record<string, string>,
): Promise<DemoResult> {
  return runDemo({
    app,
    scenario,
    workers: 4,
    conversations: 24,
    turns: 8,
    connections: 8,
    sticky: false,
    "retry-rate": 0,
    timeout: 10,
    "max-seconds": 60,
    help: false,
    ...flags,
    agentLatencyMs: 5,
    logDir: join(tmpdir(), "agent-sandbox-test-logs"),
    progress: false,
    note,
    env,
  });
}
