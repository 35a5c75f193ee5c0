/** An error that maps to one HTTP status and a stable machine-readable code. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * The conversation store failed. `definite` (code `store_unavailable`): the write never
 * happened, so the turn left no trace. Otherwise (code `store_write_uncertain`): a write
 * was sent but no answer came (timeout, dropped connection), so it may or may not have
 * been applied; the client cannot know, and must not be told "nothing was stored".
 */
export class StoreUnavailableError extends HttpError {
  constructor(
    cause: unknown,
    readonly definite = true,
  ) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      503,
      definite ? "store_unavailable" : "store_write_uncertain",
      definite
        ? `conversation store unavailable, nothing was stored: ${detail}`
        : `conversation store did not confirm the write, it may or may not be stored: ${detail}`,
    );
    this.name = "StoreUnavailableError";
    this.cause = cause;
  }
}

/**
 * The model behind the agent gave no usable reply: unreachable, too slow, a non-2xx
 * answer, or a body that is not a chat completion. Maps to 502 `model_error`. The
 * message says what went wrong and never carries the API key; the original error, if
 * any, is kept as `cause` for the logs. The fixed chat services persist a turn only
 * after the reply arrives, so a turn that fails this way leaves nothing in the store.
 */
export class ModelError extends HttpError {
  constructor(message: string, cause?: unknown) {
    super(502, "model_error", message);
    this.name = "ModelError";
    if (cause !== undefined) this.cause = cause;
  }
}
