import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChaosOptions, DEFAULT_CHAOS_OPTIONS } from "../../lab/chaos/run-case.ts";

/** Chaos cases sized for the tests: real clusters and real faults, small enough for 2 cores. */
export const TEST_CHAOS_OPTIONS: ChaosOptions = {
  ...DEFAULT_CHAOS_OPTIONS,
  workers: 3,
  conversations: 12,
  turns: 8,
  connections: 6,
  logDir: join(tmpdir(), "agent-sandbox-test-logs"),
};
