import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { sendJsonError } from "./respond.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".svg": "image/svg+xml",
  ".ico": "image/x-icon",
};

// The page loads nothing but its own files; say so to the browser.
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** Serves one file of `root` ("/" is index.html); never a path outside it. */
export async function serveStatic(
  root: string,
  pathname: string,
  res: ServerResponse,
  headOnly: boolean,
): Promise<void> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname === "/" ? "/index.html" : pathname);
  } catch {
    decoded = pathname; // Malformed %-escapes: no such file, below.
  }
  const file = join(root, normalize(decoded));
  const type = TYPES[extname(file)];
  if (!file.startsWith(root + sep) || !type) {
    sendJsonError(res, 404, "not_found", `no such file: ${pathname}`);
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    sendJsonError(res, 404, "not_found", `no such file: ${pathname}`);
    return;
  }
  res.writeHead(200, {
    "content-type": type,
    "content-length": body.length,
    // A teaching page is edited while it runs: always serve the current file.
    "cache-control": "no-store",
    ...SECURITY_HEADERS,
  });
  res.end(headOnly ? undefined : body);
}
