import { ReplyError } from "ioredis";
import { StoreUnavailableError, StoreWriteUncertainError } from "../errors.ts";

/**
 * A Redis read, its failure named: whatever went wrong, nothing changed, so the caller
 * answers 503 store_unavailable.
 */
export async function readFromRedis<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error) {
    throw new StoreUnavailableError(error);
  }
}

/** A Redis write, its failure named: refused before it ran (unavailable), or of unknown outcome. */
export async function writeToRedis<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error) {
    throw writeFailure(error);
  }
}

/** What a failed write means for the caller: see neverApplied. */
export function writeFailure(error: unknown): StoreUnavailableError | StoreWriteUncertainError {
  return neverApplied(error)
    ? new StoreUnavailableError(error)
    : new StoreWriteUncertainError(error);
}

/**
 * True when the failed write certainly did not happen: it was refused before being sent
 * (offline, with the offline queue disabled) or Redis answered with an error (a script runs
 * whole or not at all). A timeout or a connection lost mid-command leaves the outcome unknown.
 */
function neverApplied(error: unknown): boolean {
  if (error instanceof ReplyError) return true;
  return error instanceof Error && /enableOfflineQueue|Stream isn't writeable/.test(error.message);
}
