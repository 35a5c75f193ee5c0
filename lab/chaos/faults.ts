import { setTimeout as sleep } from "node:timers/promises";
import type { PrivateRedis } from "../processes/redis-server.ts";

export const FAULT_NAMES = [
  "no-fault",
  "worker-crash",
  "worker-drain",
  "redis-outage",
  "redis-crash",
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** What a fault can act on while the load runs. */
export interface FaultTarget {
  /** The worker chosen as the victim (the one that has acknowledged the most turns so far). */
  victimPid: number;
  /** The app's Redis, when it has one this process started. */
  redis?: PrivateRedis;
  /** How long Redis stays down (redis-outage, redis-crash). */
  downMs: number;
}

/** What a fault did, on the load test's clock. */
export interface FaultEvent {
  fault: FaultName;
  /** When it struck, and when the system was given back (Redis answering again). */
  startedAt: number;
  restoredAt: number;
  /** The worker signalled, for worker faults. */
  victimPid?: number;
  detail: string;
}

export interface Fault {
  name: FaultName;
  /** One line for the report. */
  description: string;
  /** True when the fault acts on Redis (an app without Redis has nothing to fail). */
  needsRedis: boolean;
  inject(target: FaultTarget, now: () => number): Promise<FaultEvent>;
}

function signalWorker(name: FaultName, signal: NodeJS.Signals, description: string): Fault {
  return {
    name,
    description,
    needsRedis: false,
    async inject({ victimPid }, now) {
      const startedAt = now();
      process.kill(victimPid, signal);
      return {
        fault: name,
        startedAt,
        restoredAt: startedAt,
        victimPid,
        detail: `${signal} to worker pid ${victimPid}`,
      };
    },
  };
}

function stopRedis(name: FaultName, signal: "SIGTERM" | "SIGKILL", description: string): Fault {
  return {
    name,
    description,
    needsRedis: true,
    async inject({ redis, downMs }, now) {
      if (!redis) throw new Error(`${name} needs a Redis this process started`);
      const startedAt = now();
      await redis.halt(signal);
      await sleep(downMs);
      await redis.restart();
      const restoredAt = now();
      return {
        fault: name,
        startedAt,
        restoredAt,
        detail: `${signal} to redis-server (${redis.persistence}), back after ${Math.round(restoredAt - startedAt)} ms`,
      };
    },
  };
}

/** The control: the same run with nothing failing, to tell the fault's effect from the app's. */
const noFault: Fault = {
  name: "no-fault",
  description: "the same load with nothing failing (the control)",
  needsRedis: false,
  async inject(_target, now) {
    const at = now();
    return { fault: "no-fault", startedAt: at, restoredAt: at, detail: "nothing failed" };
  },
};

export const FAULTS: Record<FaultName, Fault> = {
  "no-fault": noFault,
  "worker-crash": signalWorker(
    "worker-crash",
    "SIGKILL",
    "SIGKILL one worker mid-run; the primary starts a replacement",
  ),
  "worker-drain": signalWorker(
    "worker-drain",
    "SIGTERM",
    "SIGTERM one worker mid-run (a rolling deploy): it drains, exits and is replaced",
  ),
  "redis-outage": stopRedis(
    "redis-outage",
    "SIGTERM",
    "Redis shuts down cleanly mid-run and comes back after a pause",
  ),
  "redis-crash": stopRedis(
    "redis-crash",
    "SIGKILL",
    "SIGKILL Redis mid-run and restart it from its append-only file",
  ),
};
