import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DemoOptions, type DemoResult, runDemo } from "../../lib/demo/run-demo.ts";
import type { LoadFlags } from "../../lib/load/cli-options.ts";
import type { ScenarioName } from "../../lib/scenarios.ts";
import type { AppName } from "../../lib/types.ts";

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
