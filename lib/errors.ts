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
