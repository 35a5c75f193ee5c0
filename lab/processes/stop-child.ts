import type { ChildProcess } from "node:child_process";
import { once } from "node:events";

/** `signal` (SIGTERM), then SIGKILL after `timeoutMs`; resolves once the child has exited. */
export async function stopChild(
  child: ChildProcess,
  timeoutMs = 5000,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  await exited;
  clearTimeout(timer);
}
