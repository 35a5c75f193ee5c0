import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ScenarioName } from "../../scenarios/catalogue.ts";
import type { PrivateRedis } from "../processes/redis-server.ts";
import type { MidReplyWorker } from "./streams-in-flight.ts";

export const FAULT_NAMES = [
  "no-fault",
  "worker-crash",
  "worker-drain",
  "stream-producer-crash",
  "redis-outage",
  "redis-crash",
  "redis-failover",
  "redis-failover-no-wait",
  "redis-cluster-failover",
  "redis-cluster-failover-no-wait",
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/**
 * A primary with replicas that a fault can partition and fail over: Sentinel's, or one
 * master of a Redis Cluster with a replica per master.
 */
export interface FailoverTarget {
  /** Cuts every replica's replication link to its primary (its replication user switched off). */
  cutReplication(): Promise<void>;
  /** Lets replicas replicate again (the links the cut left to the surviving primaries). */
  restoreReplication(): Promise<void>;
  /** SIGKILLs the primary (for a Cluster: the master with the most keys); resolves with its port. */
  killPrimary(): Promise<number>;
  /** Resolves with the promoted replica's port once the deployment agrees on it. */
  waitForPromotion(timeoutMs: number): Promise<number>;
  /**
   * Brings the killed primary back as a replica, as an orchestrator would, where the promoted
   * one would otherwise have none (a Cluster with one replica per master); returns the step.
   */
  recoverKilled?(): Promise<string>;
}

/** What a fault can act on while the load runs. */
export interface FaultTarget {
  /** The worker chosen as the victim (the one that has acknowledged the most turns so far). */
  victimPid: number;
  /** The app's Redis, when it has one this process started. */
  redis?: PrivateRedis;
  /** The app's replicated Redis, for the failover faults. */
  failover?: FailoverTarget;
  /** How long Redis stays down (redis-outage, redis-crash), or its replicas cut off (failover). */
  downMs: number;
  /** Answers the load has received so far, of any kind: a fault can wait for turns to happen. */
  answers(): number;
  /** With a streamed load: the worker producing the most replies, each part-way through, if any. */
  midReplyWorker?(): MidReplyWorker | undefined;
  /** The app under test: its URL, and how many workers its primary runs. */
  app: { url: string; workers: number };
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
  /**
   * What the fixed app runs on for this fault: one private redis-server (the default), a
   * primary with 2 replicas under Sentinel, or a Cluster of 3 masters with a replica each.
   */
  redis?: "sentinel" | "cluster-replicas";
  /** Settings the fixed app runs with for this fault (the one thing its row changes). */
  appEnv?: Record<string, string>;
  /** The scenario whose broken and fixed apps this row runs (default: memory). */
  scenario?: ScenarioName;
  /** Settings both apps run with for this row (say, a slower model). */
  env?: Record<string, string>;
  /** The load asks for every turn as a stream of events. */
  stream?: boolean;
  /**
   * The client waits at least this long (s) for an answer's next byte: a resumed stream stays
   * silent until the dead producer's lease lapses (TURN_LEASE_MS, then one blocking read).
   */
  minTimeoutSeconds?: number;
  /**
   * Set on a row about the streams the fault cuts: it fails unless the fault cut some, the
   * fixed app's readers were told `turn_interrupted` and each cut turn, resent, was stored
   * once, and the broken app's checker caught the replies it lost (stream-gap).
   */
  cutsStreams?: boolean;
  /**
   * Set on a row that shows a setting's cost: the fixed app is meant to lose turns here, and
   * this says why. The run fails if it does not lose any (the lesson was not shown).
   */
  meantToLose?: string;
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

/** How long the stream fault waits for a worker mid-reply before it gives up. */
const MID_REPLY_WAIT_MS = 10_000;
/** How long the connections that absorb the dead worker's share are held open. */
const ABSORB_MS = 1000;

/**
 * node:cluster's primary hands each connection it accepts to the next worker it believes
 * alive, and a worker killed a moment ago still counts until the primary has read its exit:
 * a connection handed to it then is lost, never answered (seen here on a busy machine, as a
 * resume that waited out the client's timeout). One connection per worker, opened in the
 * same tick as the kill, reaches the primary before any client notices the kill: they take
 * whatever it still hands the dead worker, so the clients' resumes reach live workers.
 */
function absorbStaleRouting({ url, workers }: FaultTarget["app"]): void {
  const { hostname, port } = new URL(url);
  for (let i = 0; i < workers; i++) {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.on("error", () => {});
    setTimeout(() => socket.destroy(), ABSORB_MS).unref();
  }
}

/**
 * SIGKILL to a worker while it produces replies, every one of them part-way through (see
 * StreamsInFlight): its readers resume on another worker. A load that never streamed, or no
 * worker mid-reply in time, strikes no one, and the row shows that nothing was cut.
 */
function killMidReply(name: FaultName, description: string, extra: Partial<Fault>): Fault {
  return {
    name,
    description,
    needsRedis: false,
    stream: true,
    cutsStreams: true,
    // The lease (2 s in these runs) and a 0.5 s blocking read, with room for a busy machine.
    minTimeoutSeconds: 5,
    ...extra,
    async inject({ midReplyWorker, app }, now) {
      const waitedFrom = now();
      while (now() - waitedFrom < MID_REPLY_WAIT_MS) {
        const victim = midReplyWorker?.();
        if (victim) {
          // Killed in the same tick it was found in: its streams are still part-way through.
          process.kill(victim.pid, "SIGKILL");
          absorbStaleRouting(app);
          const startedAt = now();
          const replies = `${victim.streams} ${victim.streams === 1 ? "reply" : "replies"}`;
          const words = `${victim.deltas} ${victim.deltas === "1" ? "word" : "words"} in`;
          const detail = `SIGKILL to worker pid ${victim.pid} while it streamed ${replies}, ${words}`;
          return { fault: name, startedAt, restoredAt: startedAt, victimPid: victim.pid, detail };
        }
        await sleep(1);
      }
      const at = now();
      const detail = `no worker was mid-reply within ${MID_REPLY_WAIT_MS} ms: nothing was killed`;
      return { fault: name, startedAt: at, restoredAt: at, detail };
    },
  };
}

/** Answers to wait for while the replicas are cut off, beyond downMs: enough to show. */
const ANSWERS_WHILE_CUT = 8;
/** ...but no longer than this: a stalled load must not keep the replicas cut for good. */
const MAX_CUT_MS = 10_000;
const PROMOTION_TIMEOUT_MS = 20_000;

/**
 * Cuts the replication links, lets the load run for `downMs` (and at least a few answers) with
 * writes reaching the primary alone, then SIGKILLs the primary: Sentinel promotes a replica
 * that never got those writes. What the fixed app acknowledged in that window is lost unless
 * it waited for a replica (WAIT) before acknowledging.
 */
function failover(name: FaultName, description: string, extra: Partial<Fault> = {}): Fault {
  return {
    name,
    description,
    needsRedis: true,
    redis: "sentinel",
    ...extra,
    async inject({ failover: target, downMs, answers }, now) {
      if (!target) throw new Error(`${name} needs a replicated Redis this process started`);
      const startedAt = now();
      await target.cutReplication();
      const before = answers();
      await sleep(downMs);
      while (answers() < before + ANSWERS_WHILE_CUT && now() - startedAt < MAX_CUT_MS) {
        await sleep(20);
      }
      const whileCut = answers() - before;
      const killed = await target.killPrimary();
      const killedAt = now();
      const promoted = await target.waitForPromotion(PROMOTION_TIMEOUT_MS);
      const promotedAt = now();
      await target.restoreReplication();
      const recovered = target.recoverKilled ? `, ${await target.recoverKilled()}` : "";
      const restoredAt = now();
      return {
        fault: name,
        startedAt,
        restoredAt,
        detail: `replicas cut off for ${Math.round(killedAt - startedAt)} ms (${whileCut} answers meanwhile), primary :${killed} SIGKILLed, replica :${promoted} promoted after ${Math.round(promotedAt - killedAt)} ms${recovered}`,
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
  "stream-producer-crash": killMidReply(
    "stream-producer-crash",
    "SIGKILL a worker mid-reply while every turn is streamed; its readers resume on another worker",
    // A slower model (its words 30 ms apart): every reply streams for half a second or more.
    { scenario: "streaming", env: { AGENT_CHUNK_DELAY_MS: "30" } },
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
  "redis-failover": failover(
    "redis-failover",
    "Sentinel, 2 replicas: replication cut, the primary SIGKILLed, a replica promoted; turns acknowledged after WAIT 1",
  ),
  "redis-failover-no-wait": failover(
    "redis-failover-no-wait",
    "the same failover, the fixed app acknowledging on the primary's reply alone (REDIS_WAIT_REPLICAS=0)",
    {
      appEnv: { REDIS_WAIT_REPLICAS: "0" },
      meantToLose:
        "replication is asynchronous: what only the killed primary had is gone from the promoted replica",
    },
  ),
  "redis-cluster-failover": failover(
    "redis-cluster-failover",
    "Redis Cluster, a replica per master: replication cut, a master SIGKILLed, its replica promoted; WAIT 1",
    { redis: "cluster-replicas" },
  ),
  "redis-cluster-failover-no-wait": failover(
    "redis-cluster-failover-no-wait",
    "the same Cluster failover, acknowledging on the master's reply alone (REDIS_WAIT_REPLICAS=0)",
    {
      redis: "cluster-replicas",
      appEnv: { REDIS_WAIT_REPLICAS: "0" },
      meantToLose:
        "what only the killed master had is gone from its promoted replica (the other masters' conversations keep theirs)",
    },
  ),
};
