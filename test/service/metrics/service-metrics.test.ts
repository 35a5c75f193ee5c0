import { describe, expect, it } from "vitest";
import { requestJson } from "../../../lab/load/http-json.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import type { ChatService } from "../../../service/chat/chat-service.ts";
import { loadConfig } from "../../../service/config.ts";
import { StoreUnavailableError, StoreWriteUncertainError } from "../../../service/errors.ts";
import { ServiceMetrics, turnOutcome } from "../../../service/metrics/service-metrics.ts";
import { startServer } from "../../../service/server.ts";

describe("turnOutcome: one label per answer a client can get", () => {
  it.each([
    [200, undefined, false, "ok"],
    [200, undefined, true, "replayed"],
    [409, "conversation_busy", false, "busy"],
    [409, "turn_in_progress", false, "busy"],
    [409, "turn_fenced", false, "fenced"],
    [429, "rate_limited", false, "rate_limited"],
    [503, "store_unavailable", false, "store_unavailable"],
    [503, "store_write_uncertain", false, "write_uncertain"],
    [502, "model_error", false, "model_error"],
    [400, "invalid_body", false, "invalid"],
    [401, "unauthorized", false, "invalid"],
    [500, "internal_error", false, "error"],
  ] as const)("%i %s (replayed %s) -> %s", (status, code, replayed, outcome) => {
    expect(turnOutcome(status, code, replayed)).toBe(outcome);
  });
});

describe("one app's /metrics (a single process)", () => {
  it("counts store failures once as the turn's outcome and once as a store error", async () => {
    const failures = [new StoreUnavailableError("down"), new StoreWriteUncertainError("timeout")];
    const service: ChatService = {
      backend: "test",
      handleTurn: async () => {
        throw failures.shift();
      },
      history: async () => [],
      storeReachable: async () => false,
      close: async () => {},
    };
    const config = loadConfig({});
    const metrics = new ServiceMetrics({ app: "test", nodeDefaults: false });
    const server = await startServer({
      app: "test",
      scenario: "-",
      service,
      config,
      metrics,
      port: 0,
    });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const turn = () =>
        requestJson(`${url}/conversations/c/turns`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${issueToken({ tenant: "t", user: "u" }, config.authSecret)}`,
            "content-type": "application/json",
          },
          body: JSON.stringify({ text: "hi" }),
        });
      expect([(await turn()).status, (await turn()).status]).toEqual([503, 503]);
      const text = String((await requestJson(`${url}/metrics`)).body);
      expect(text).toContain('agent_turns_total{app="test",outcome="store_unavailable"} 1');
      expect(text).toContain('agent_turns_total{app="test",outcome="write_uncertain"} 1');
      expect(text).toContain('agent_store_errors_total{app="test",kind="unavailable"} 1');
      expect(text).toContain('agent_store_errors_total{app="test",kind="uncertain"} 1');
      // Asked for without Node's defaults: only the service's own series.
      expect(text).not.toContain("process_cpu_user_seconds_total");
    } finally {
      await server.stop();
    }
  });
});
