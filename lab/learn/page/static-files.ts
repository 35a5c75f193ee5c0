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
  if (!file.startsWith(root + sep)) {
    sendJsonError(res, 404, "not_found", `no such file: ${pathname}`);
    return;
  }
  await serveFile(file, pathname, res, headOnly);
}

/** Sends one file the server has chosen (the page's own, or a vendored module) by its type. */
export async function serveFile(
  file: string,
  pathname: string,
  res: ServerResponse,
  headOnly: boolean,
): Promise<void> {
  const type = TYPES[extname(file)];
  let body: Buffer | undefined;
  try {
    body = type ? await readFile(file) : undefined;
  } catch {
    body = undefined;
  }
  if (!type || !body) {
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
