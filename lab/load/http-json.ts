import { type Agent, request } from "node:http";

export interface JsonResponse {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One HTTP request on a fresh connection (`agent: false`, `Connection: close`), so the
 * cluster primary hands it to the next worker in turn: how the load test reaches several
 * workers when it reads histories back. With `agent`, over that agent's keep-alive
 * connection instead (a streamed load's connection, which stays on its worker).
 */
export function requestJson(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    timeoutMs?: number;
    agent?: Agent;
    /** Aborts the request (the run stopped). */
    signal?: AbortSignal;
  } = {},
): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        headers: { ...(options.agent ? {} : { connection: "close" }), ...options.headers },
        agent: options.agent ?? false,
        timeout: options.timeoutMs ?? 10_000,
        signal: options.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // Not JSON: keep the raw text for the caller to report.
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () =>
      req.destroy(new Error(`timed out after ${options.timeoutMs ?? 10_000} ms`)),
    );
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}
