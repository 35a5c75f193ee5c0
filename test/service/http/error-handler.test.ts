import express from "express";
import { describe, expect, it } from "vitest";
import { requestJson } from "../../../lab/load/http-json.ts";
import {
  ConversationBusyError,
  ModelError,
  RateLimitedError,
  StoreUnavailableError,
  StoreWriteUncertainError,
  TurnFencedError,
  TurnInProgressError,
} from "../../../service/errors.ts";
import { errorHandler } from "../../../service/http/error-handler.ts";

/** Each domain error and the status and code the README's contract documents for it. */
const CASES = [
  [new ConversationBusyError("busy"), 409, "conversation_busy"],
  [new TurnInProgressError("running"), 409, "turn_in_progress"],
  [new TurnFencedError("lease_lost"), 409, "turn_fenced"],
  [new TurnFencedError("history_changed"), 409, "turn_fenced"],
  [new StoreUnavailableError(new Error("down")), 503, "store_unavailable"],
  [new StoreWriteUncertainError(new Error("timeout")), 503, "store_write_uncertain"],
  [new ModelError("no reply"), 502, "model_error"],
  [new RateLimitedError(20), 429, "rate_limited"],
  [new Error("a bug"), 500, "internal_error"],
] as const;

describe("the error handler: the one place a domain error gets its status", () => {
  it.each(CASES)("%s -> %i %s", async (error, status, code) => {
    const app = express();
    app.get("/", () => {
      throw error;
    });
    app.use(errorHandler);
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const { port } = server.address() as { port: number };
      const res = await requestJson(`http://127.0.0.1:${port}/`);
      expect(res.status).toBe(status);
      expect(res.body).toEqual({
        error: { code, message: status === 500 ? "internal error" : error.message },
      });
    } finally {
      server.close();
    }
  });
});
