import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { proxyToApp, type Upstream } from "./proxy.ts";
import { sendJsonError } from "./respond.ts";
import { serveFile, serveStatic } from "./static-files.ts";
import { VENDOR_MODULES } from "./vendor-modules.ts";

/** The page's own files (static/ beside this module). */
const WEB_ROOT = join(dirname(fileURLToPath(import.meta.url)), "static");

export interface WebServerOptions {
  brokenUrl: string;
  fixedUrl: string;
  /** Signs the tokens the proxy sends; must be the apps' AUTH_SECRET. */
  secret: string;
  webRoot?: string;
}

export interface RunningWebServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The side-by-side page: its static files, the vendored modules it imports (see
 * VENDOR_MODULES), and `/api/broken/*`, `/api/fixed/*` proxied to the two apps (see
 * proxyToApp), so the page needs neither CORS nor a token.
 */
function createWebServer(options: WebServerOptions): Server {
  const root = options.webRoot ?? WEB_ROOT;
  const upstreams: Record<string, Upstream> = {
    broken: { name: "broken", url: options.brokenUrl.replace(/\/+$/, "") },
    fixed: { name: "fixed", url: options.fixedUrl.replace(/\/+$/, "") },
  };
  return createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://page.invalid");
    const api = /^\/api\/([a-z]+)(\/.*)$/.exec(pathname);
    if (api) {
      const upstream = upstreams[api[1] ?? ""];
      if (!upstream) sendJsonError(res, 404, "not_found", `no app named ${api[1]}`);
      else proxyToApp(req, res, upstream, api[2] ?? "/", options.secret);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJsonError(res, 405, "method_not_allowed", `${req.method} is not served here`);
      return;
    }
    const headOnly = req.method === "HEAD";
    const vendored = VENDOR_MODULES.get(pathname);
    const served = vendored
      ? serveFile(vendored, pathname, res, headOnly)
      : serveStatic(root, pathname, res, headOnly);
    served.catch((error: Error) => sendJsonError(res, 500, "internal", error.message));
  });
}

/** Starts the page server on 127.0.0.1 (port 0: any free port). */
export async function startWebServer(
  options: WebServerOptions & { port: number; host?: string },
): Promise<RunningWebServer> {
  const server = createWebServer(options);
  server.listen(options.port, options.host ?? "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
