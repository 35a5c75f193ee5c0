import { setTimeout as sleep } from "node:timers/promises";
import type { MessagesResponse } from "../../service/contract.ts";
import { requestJson } from "./http-json.ts";

/** How often a cut stream's turn is looked for in its conversation's history. */
const LOOKUP_EVERY_MS = 20;

export interface Lookup {
  host: string;
  token: string;
  conversationId: string;
  turnId: string;
  timeoutMs: number;
  signal: AbortSignal;
}

/**
 * A turn whose stream never reached its end, looked for in its conversation's history as a
 * page reloading it would, each read on a fresh connection (so from rotating workers), until
 * its reply is there or `timeoutMs` pass. Found: its conversation can go on after it.
 */
export async function lookUpTurn(lookup: Lookup): Promise<{ reads: number; found: boolean }> {
  const deadline = Date.now() + lookup.timeoutMs;
  let reads = 0;
  while (!lookup.signal.aborted) {
    reads++;
    if (await holdsReply(lookup)) return { reads, found: true };
    if (Date.now() + LOOKUP_EVERY_MS > deadline) break;
    await sleep(LOOKUP_EVERY_MS, undefined, { signal: lookup.signal }).catch(() => {});
  }
  return { reads, found: false };
}

async function holdsReply(lookup: Lookup): Promise<boolean> {
  try {
    const res = await requestJson(
      `${lookup.host}/conversations/${lookup.conversationId}/messages`,
      {
        headers: { authorization: `Bearer ${lookup.token}` },
        timeoutMs: lookup.timeoutMs,
        signal: lookup.signal,
      },
    );
    const messages = res.status === 200 ? (res.body as MessagesResponse).messages : [];
    return messages.some((m) => m.turnId === lookup.turnId && m.role === "assistant");
  } catch {
    return false;
  }
}
