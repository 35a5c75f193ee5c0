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

/** The conversation store could not be reached or did not answer in time: the turn did not happen. */
export class StoreUnavailableError extends HttpError {
  constructor(cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(503, "store_unavailable", `conversation store unavailable: ${detail}`);
    this.name = "StoreUnavailableError";
    this.cause = cause;
  }
}
