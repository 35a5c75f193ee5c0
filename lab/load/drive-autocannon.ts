import type { EventEmitter } from "node:events";
import autocannon from "autocannon";
import type { LoadConnections } from "./connections.ts";
import type { LoadOptions } from "./load-options.ts";

/** Where and how long autocannon runs. */
export type AutocannonTarget = Pick<
  LoadOptions,
  "url" | "hosts" | "connections" | "maxSeconds" | "timeoutSeconds"
>;

/**
 * Runs autocannon over `target.connections` keep-alive connections, one request on the
 * wire each, until `connections` stops it (every conversation done) or `maxSeconds` pass.
 * Before every write a connection asks `connections` what to send; every answer goes back
 * to it.
 */
export function driveAutocannon(
  target: AutocannonTarget,
  connections: LoadConnections,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        // autocannon spreads connections over several URLs (connection i -> url i mod n).
        url: (target.hosts ?? target.url) as string,
        connections: target.connections,
        pipelining: 1,
        duration: target.maxSeconds,
        timeout: target.timeoutSeconds,
        // Replaced per connection in setupClient; never sent.
        requests: [{ method: "GET", path: "/healthz" }],
        setupClient: (client) => {
          const slot = connections.open(client);
          // Emitted before autocannon reconnects and plans the next request (see plan()).
          // (@types/autocannon lists only "response" on a client; it emits "timeout" too.)
          (client as unknown as EventEmitter).on("timeout", () => {
            slot.timedOut = true;
          });
          client.setRequests([
            {
              setupRequest: (base) => connections.plan(slot, base),
              onResponse: (status, body, _context, headers) =>
                connections.settle(slot, status, body, headers ?? {}),
            },
          ]);
        },
      },
      (error) => (error ? reject(error) : resolve()),
    );
    connections.stopWith(() => instance.stop());
  });
}
