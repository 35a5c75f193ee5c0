/** A request the HTTP layer refuses itself (auth, validation, routing): a status and a stable code. */
export class HttpError extends Error {
  override readonly name = "HttpError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
