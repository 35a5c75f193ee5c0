import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { askPrimaryForMetrics, offerToPrimary } from "./cluster-metrics.ts";

/** How a turn request ended: one label value per answer a client can get. */
export type TurnOutcome =
  | "ok"
  | "replayed"
  | "busy"
  | "fenced"
  | "rate_limited"
  | "store_unavailable"
  | "write_uncertain"
  | "model_error"
  | "invalid"
  | "error"
  /** The client left before its answer was written. */
  | "disconnected";

/** The error codes that name their own outcome; any other 4xx is `invalid`, 5xx `error`. */
const OUTCOME_OF_CODE: Record<string, TurnOutcome> = {
  conversation_busy: "busy",
  turn_in_progress: "busy",
  turn_fenced: "fenced",
  rate_limited: "rate_limited",
  store_unavailable: "store_unavailable",
  store_write_uncertain: "write_uncertain",
  model_error: "model_error",
};

/** A finished turn request's outcome, from its status and error code. */
export function turnOutcome(status: number, errorCode?: string, replayed = false): TurnOutcome {
  if (status === 200) return replayed ? "replayed" : "ok";
  const named = errorCode === undefined ? undefined : OUTCOME_OF_CODE[errorCode];
  if (named) return named;
  return status >= 400 && status < 500 ? "invalid" : "error";
}

export interface ServiceMetricsOptions {
  /** The `app` label on every series (the sandbox: broken, fixed, exercise). */
  app: string;
  /** Where the series are registered; a new registry by default. */
  registry?: Registry;
  /** Also collect Node's defaults (CPU, memory, event loop lag, GC). Default true. */
  nodeDefaults?: boolean;
  /**
   * `cluster`: this process is a node:cluster worker under runCluster, and a scrape answers
   * the sum over every worker (the primary aggregates); `process`: this process only.
   */
  scope?: "cluster" | "process";
}

/** What the service counts for Prometheus: turns by outcome, their latency, lease waits, store errors. */
export class ServiceMetrics {
  readonly registry: Registry;
  private readonly app: string;
  private readonly scope: "cluster" | "process";
  private readonly turns: Counter<"app" | "outcome">;
  private readonly turnSeconds: Histogram<"app" | "outcome">;
  private readonly leaseWaitSeconds: Histogram<"app">;
  private readonly storeErrors: Counter<"app" | "kind">;

  constructor(options: ServiceMetricsOptions) {
    this.app = options.app;
    this.scope = options.scope ?? "process";
    this.registry = options.registry ?? new Registry();
    const registers = [this.registry];
    if (options.nodeDefaults ?? true) collectDefaultMetrics({ register: this.registry });
    this.turns = new Counter({
      name: "agent_turns_total",
      help: "Turn requests answered, by outcome",
      labelNames: ["app", "outcome"],
      registers,
    });
    this.turnSeconds = new Histogram({
      name: "agent_turn_duration_seconds",
      help: "Time from a turn request's arrival to its answer, by outcome",
      labelNames: ["app", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.leaseWaitSeconds = new Histogram({
      name: "agent_lease_wait_seconds",
      help: "Time a turn waited for its conversation's lease (turns that got it)",
      labelNames: ["app"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.storeErrors = new Counter({
      name: "agent_store_errors_total",
      help: "Redis commands that failed: unavailable (nothing done) or uncertain (a write may have happened)",
      labelNames: ["app", "kind"],
      registers,
    });
    if (this.scope === "cluster") offerToPrimary(this.registry);
  }

  turnAnswered(outcome: TurnOutcome, seconds: number): void {
    this.turns.inc({ app: this.app, outcome });
    this.turnSeconds.observe({ app: this.app, outcome }, seconds);
  }

  leaseWaited(seconds: number): void {
    this.leaseWaitSeconds.observe({ app: this.app }, seconds);
  }

  storeFailed(kind: "unavailable" | "uncertain"): void {
    this.storeErrors.inc({ app: this.app, kind });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text a scrape answers: this process's series, or the whole cluster's. */
  scrape(): Promise<string> {
    return this.scope === "cluster" ? askPrimaryForMetrics() : this.registry.metrics();
  }
}
