import { requestJson } from "../../lab/load/http-json.ts";

/** A client for one app under test: JSON in, status + JSON body out, fresh connection each time. */
export function client(baseUrl: string, token?: string) {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    turn: (conversationId: string, body: unknown, headers: Record<string, string> = {}) =>
      requestJson(`${baseUrl}/conversations/${conversationId}/turns`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth, ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    messages: (conversationId: string, headers: Record<string, string> = {}) =>
      requestJson(`${baseUrl}/conversations/${conversationId}/messages`, {
        headers: { ...auth, ...headers },
      }),
    get: (path: string, headers: Record<string, string> = {}) =>
      requestJson(`${baseUrl}${path}`, { headers: { ...auth, ...headers } }),
  };
}
