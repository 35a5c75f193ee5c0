import type { MessagesResponse } from "../../service/contract.ts";
import { requestJson } from "./http-json.ts";
import type { LoadOptions } from "./load-options.ts";
import type { FinalRead } from "./records.ts";

/** Every conversation read from every host, enough times to reach each of its workers. */
export async function readFromHosts(
  options: Pick<LoadOptions, "url" | "hosts" | "token" | "workers">,
  conversationIds: string[],
): Promise<FinalRead[]> {
  const hosts = options.hosts ?? [options.url];
  const perHost = readsPerConversation(Math.ceil(options.workers / hosts.length));
  const reads: FinalRead[] = [];
  for (const host of hosts) {
    reads.push(...(await readHistories(host, options.token, conversationIds, perHost)));
  }
  return reads;
}

/** Enough fresh connections to go round every worker twice. */
export function readsPerConversation(workers: number): number {
  return Math.max(2, workers * 2);
}

/** Reads every conversation `times` times, each over a fresh connection (so from rotating workers). */
export async function readHistories(
  baseUrl: string,
  token: string,
  conversationIds: readonly string[],
  times: number,
): Promise<FinalRead[]> {
  const reads: FinalRead[] = [];
  for (const conversationId of conversationIds) {
    for (let i = 0; i < times; i++) {
      reads.push(await readHistory(baseUrl, token, conversationId));
    }
  }
  return reads;
}

export async function readHistory(
  baseUrl: string,
  token: string,
  conversationId: string,
): Promise<FinalRead> {
  try {
    const res = await requestJson(`${baseUrl}/conversations/${conversationId}/messages`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return toFinalRead(conversationId, res.status, res.body);
  } catch {
    return { conversationId, ok: false, messages: [] };
  }
}

/** Interprets one messages response, from a fresh connection or from the load test's own. */
export function toFinalRead(conversationId: string, status: number, body: unknown): FinalRead {
  if (status !== 200 || typeof body !== "object" || body === null) {
    return { conversationId, ok: false, status, messages: [] };
  }
  const data = body as MessagesResponse;
  return { conversationId, ok: true, status, servedBy: data.servedBy, messages: data.messages };
}
