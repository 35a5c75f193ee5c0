import type autocannon from "autocannon";
import type { Planned } from "./scheduler.ts";

// Fresh headers on every request: autocannon writes Content-Length into the headers
// object it is given, and a stale one on a later GET would swallow the next request.

/** A request that matters to nobody, for a connection with nothing to send. */
export function idleRequest(base: autocannon.Request): autocannon.Request {
  return { ...base, method: "GET", path: "/healthz", headers: {}, body: "" };
}

/** A planned turn (POST) or history read (GET), sent with `token`. */
export function plannedRequest(
  base: autocannon.Request,
  planned: Exclude<Planned, { kind: "idle" }>,
  token: string,
): autocannon.Request {
  const authorization = `Bearer ${token}`;
  if (planned.kind === "turn") {
    const { record } = planned;
    return {
      ...base,
      method: "POST",
      path: `/conversations/${record.conversationId}/turns`,
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ text: record.text, turnId: record.turnId }),
    };
  }
  const path = `/conversations/${planned.conversationId}/messages`;
  return { ...base, method: "GET", path, headers: { authorization }, body: "" };
}
