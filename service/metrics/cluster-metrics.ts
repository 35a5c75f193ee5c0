import cluster, { type Worker } from "node:cluster";
import { randomUUID } from "node:crypto";
import { AggregatorRegistry, type Registry } from "prom-client";

/**
 * Under node:cluster a scrape reaches one worker, which only knows its own counts. The worker
 * asks the primary, the primary asks every worker (prom-client's AggregatorRegistry) and
 * answers the sum. These messages carry the worker's question and the primary's answer.
 */
const REQUEST = "agent-sandbox:metrics-request";
const RESPONSE = "agent-sandbox:metrics-response";
/** prom-client gives up on a worker after 5 s; answer a little after that at the latest. */
const ANSWER_TIMEOUT_MS = 6000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: string;
}

interface MetricsResponse {
  type: typeof RESPONSE;
  id: string;
  text?: string;
  error?: string;
}

/** In the primary: answers workers' metrics requests with the sum over all workers. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on("message", (worker: Worker, message: MetricsRequest) => {
    if (message?.type !== REQUEST) return;
    const reply = (answer: Omit<MetricsResponse, "type" | "id">) => {
      if (worker.isConnected()) worker.send({ type: RESPONSE, id: message.id, ...answer });
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (error: Error) => reply({ error: error.message }),
    );
  });
}

/** In a worker: lets the primary collect `registry` (prom-client answers its requests). */
export function offerToPrimary(registry: Registry): void {
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}

/** In a worker: the whole cluster's metrics, from the primary. */
export function askPrimaryForMetrics(): Promise<string> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => settle(new Error("the primary did not answer")),
      ANSWER_TIMEOUT_MS,
    );
    const onMessage = (message: MetricsResponse) => {
      if (message?.type !== RESPONSE || message.id !== id) return;
      settle(message.error === undefined ? undefined : new Error(message.error), message.text);
    };
    const settle = (error?: Error, text?: string) => {
      clearTimeout(timer);
      process.off("message", onMessage);
      if (error) reject(error);
      else resolve(text ?? "");
    };
    process.on("message", onMessage);
    process.send?.({ type: REQUEST, id } satisfies MetricsRequest);
  });
}
