/**
 * What can go wrong in a turn, in the service's own words. Each error has a stable `code`;
 * the HTTP layer alone decides which status each code gets (see http/error-handler.ts).
 */
export abstract class ServiceError extends Error {
  abstract readonly code: ServiceErrorCode;
}

export type ServiceErrorCode =
  | "conversation_busy"
  | "turn_in_progress"
  | "turn_fenced"
  | "store_unavailable"
  | "store_write_uncertain"
  | "model_error"
  | "rate_limited";

/** Another turn of this conversation holds its lease; this one ran nothing and stored nothing. */
export class ConversationBusyError extends ServiceError {
  readonly code = "conversation_busy";
  override readonly name = "ConversationBusyError";
}

/** This very turnId is running elsewhere, or is recorded but not readable yet: retry it later. */
export class TurnInProgressError extends ServiceError {
  readonly code = "turn_in_progress";
  override readonly name = "TurnInProgressError";
}

/**
 * The fenced append refused the write on purpose, so nothing was stored: the turn's lease
 * expired or was taken over (`lease_lost`), or the history changed since the turn read it
 * (`history_changed`), or the turn is already stored (`already_stored`, a retry).
 */
export class TurnFencedError extends ServiceError {
  readonly code = "turn_fenced";
  // Widened: a store's own refusal (CheckpointConflictError) is a TurnFencedError too.
  override readonly name: string = "TurnFencedError";

  constructor(readonly reason: "lease_lost" | "history_changed" | "already_stored") {
    super(`nothing was stored: ${FENCE_REASONS[reason]}`);
  }
}

const FENCE_REASONS = {
  lease_lost: "the lease of this turn expired or was taken over",
  history_changed: "the history changed since this turn read it",
  already_stored: "this turn is already stored",
} as const;

/** The store refused or could not take the command: the write never happened, the turn left no trace. */
export class StoreUnavailableError extends ServiceError {
  readonly code = "store_unavailable";
  override readonly name = "StoreUnavailableError";

  constructor(cause: unknown) {
    super(`conversation store unavailable, nothing was stored: ${describe(cause)}`, { cause });
  }
}

/**
 * A write was sent but no answer came (timeout, dropped connection): it may or may not have
 * been applied. The client cannot know, and must not be told "nothing was stored".
 */
export class StoreWriteUncertainError extends ServiceError {
  readonly code = "store_write_uncertain";
  override readonly name = "StoreWriteUncertainError";

  constructor(cause: unknown) {
    super(
      `conversation store did not confirm the write, it may or may not be stored: ${describe(cause)}`,
      { cause },
    );
  }
}

/**
 * The model behind the agent gave no usable reply: unreachable, too slow, a non-2xx answer,
 * or a body that is not a chat completion. The message never carries the API key. The fixed
 * services store a turn only after the reply arrives, so such a turn leaves nothing stored.
 */
export class ModelError extends ServiceError {
  readonly code = "model_error";
  override readonly name = "ModelError";

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** This user sent more turns this minute than RATE_LIMIT_TURNS_PER_MINUTE: nothing ran or was stored. */
export class RateLimitedError extends ServiceError {
  readonly code = "rate_limited";
  override readonly name = "RateLimitedError";

  constructor(readonly limitPerMinute: number) {
    super(
      `more than ${limitPerMinute} turns in a minute for this user; nothing was stored, retry after Retry-After seconds`,
    );
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
