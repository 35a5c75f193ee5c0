import { setTimeout as sleep } from "node:timers/promises";

export interface WaitForOptions {
  /** Give up after this long: generous, since a loaded machine is slow, never a synchronisation. */
  timeoutMs?: number;
  /** How often to look again. */
  everyMs?: number;
}

/**
 * Waits until `check` returns something other than `undefined`, `false` or `null` (awaiting it
 * if it is async) and returns that; `check` is asked again every `everyMs`. After `timeoutMs`
 * it throws, naming `what` it was waiting for, so a test that times out says why.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 30_000, everyMs = 5 }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() >= deadline)
      throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A promise and the function that resolves it: an event a test signals or waits on. */
export interface Latch<T = void> {
  promise: Promise<T>;
  open(value: T): void;
}

export function latch<T = void>(): Latch<T> {
  let open: (value: T) => void = () => {};
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** `promise`, or an error naming `what` if it has not settled within `timeoutMs`. */
export async function within<T>(what: string, promise: Promise<T>, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`gave up after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `promise` has settled, readable at any time (and never an unhandled rejection). */
export function settledFlag(promise: Promise<unknown>): { readonly settled: boolean } {
  const flag = { settled: false };
  promise.then(
    () => {
      flag.settled = true;
    },
    () => {
      flag.settled = true;
    },
  );
  return flag;
}
