import { Cluster } from "ioredis";
import { createStoreClient, type RedisClient, type RedisSettings } from "./redis-client.ts";

/**
 * Redis answered but will not let this app in: a wrong or missing password, or a TLS
 * handshake that failed. Retrying cannot help; the message says which setting to fix.
 */
export class RedisAccessRefusedError extends Error {
  override readonly name = "RedisAccessRefusedError";
}

/**
 * Connects once with exactly the app's Redis settings (createStoreClient) and PINGs. Rejects
 * with RedisAccessRefusedError when Redis refuses the credentials or TLS fails; resolves when
 * PING works, and also when Redis is merely unreachable or silent for `timeoutMs` (the app
 * then starts and answers 503 until Redis is back). The client is disconnected in every case,
 * so no reconnect loop outlives the check.
 */
export async function checkRedisAccess(settings: RedisSettings, timeoutMs = 3000): Promise<void> {
  const client = openClient(settings);
  try {
    const refusal = await firstVerdict(client, settings, timeoutMs);
    if (refusal) throw refusal;
  } finally {
    client.disconnect();
  }
}

/** createStoreClient, with an unreadable REDIS_TLS_CA reported as the setting to fix. */
function openClient(settings: RedisSettings): RedisClient {
  try {
    return createStoreClient(settings);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!settings.REDIS_TLS_CA || code === undefined) throw error;
    throw new RedisAccessRefusedError(
      `cannot read REDIS_TLS_CA (${settings.REDIS_TLS_CA}): ${(error as Error).message}: set it to a PEM file of the CA that signed the server's certificate`,
    );
  }
}

/**
 * Resolves with the refusal, or undefined once PING works, Redis proves unreachable, or
 * `timeoutMs` passes. Errors that are neither are left to the client's own retries.
 */
function firstVerdict(
  client: RedisClient,
  settings: RedisSettings,
  timeoutMs: number,
): Promise<RedisAccessRefusedError | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    const settle = (verdict: RedisAccessRefusedError | undefined) => {
      clearTimeout(timer);
      resolve(verdict);
    };
    const onError = (error: Error, node?: string) => {
      const refusal = refusalOf(error, settings, node);
      if (refusal) settle(refusal);
      else if (isUnreachable(client, error)) settle(undefined);
    };
    client.on("error", (error: Error) => onError(error));
    // A Cluster reports each node's refusal here, and only "all failed" as "error".
    client.on("node error", (error: Error, node: string) => onError(error, node));
    client.once("ready", () => {
      client.ping().then(
        () => settle(undefined),
        (error: Error) => settle(refusalOf(error, settings)),
      );
    });
  });
}

/** Socket errors that say nothing about credentials: no Redis there, or no way to it. */
const UNREACHABLE = [
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "ETIMEDOUT",
];

/**
 * Nothing usable answered: no Redis listening, no route, or a connection cut before any reply
 * (also what a plain client gets from a TLS-only port: indistinguishable from a proxy whose
 * Redis is down, so not a refusal). A Cluster or Sentinel client says so once every node or
 * sentinel has failed.
 */
function isUnreachable(client: RedisClient, error: Error): boolean {
  if (client instanceof Cluster) return error.message.startsWith("Failed to refresh slots cache");
  if (error.message.startsWith("All sentinels are unreachable")) return true;
  const code = (error as NodeJS.ErrnoException).code ?? "";
  return UNREACHABLE.includes(code);
}

/** Which server refused: a Cluster node, the primary Sentinel names, or REDIS_URL's host. */
function where(settings: RedisSettings, node?: string): string {
  if (node) return `Redis Cluster node ${node}`;
  if (settings.REDIS_CLUSTER_NODES) return `Redis Cluster (${settings.REDIS_CLUSTER_NODES})`;
  if (settings.REDIS_SENTINELS) return `the Redis primary "${settings.REDIS_SENTINEL_NAME}"`;
  const url = settings.REDIS_URL ?? "";
  return URL.canParse(url) ? `Redis at ${new URL(url).host}` : "Redis at REDIS_URL";
}

/** Error codes of a TLS handshake that failed, from Node (ERR_TLS_*) or OpenSSL. */
const TLS_FAILURE = /^ERR_SSL_|^ERR_TLS_|CERT|^UNABLE_TO_/;

/** The error as a refusal, with the setting to fix; undefined if it is not one. */
function refusalOf(
  error: Error,
  settings: RedisSettings,
  node?: string,
): RedisAccessRefusedError | undefined {
  const { message } = error;
  const code = (error as NodeJS.ErrnoException).code ?? "";
  // The sentinels' own refusal only shows as the last error of a failed round of them all.
  if (message.startsWith("All sentinels are unreachable")) {
    const last = message.split("Last error: ")[1] ?? "";
    return passwordRefusal(last, "a Redis Sentinel", "REDIS_SENTINEL_PASSWORD");
  }
  const server = where(settings, node);
  const oneUrl = !settings.REDIS_CLUSTER_NODES && !settings.REDIS_SENTINELS;
  const passwordRefused = passwordRefusal(
    message,
    server,
    oneUrl
      ? "REDIS_PASSWORD, or the password in REDIS_URL (redis://:PASSWORD@host:port),"
      : "REDIS_PASSWORD",
  );
  if (passwordRefused) return passwordRefused;
  if (TLS_FAILURE.test(code)) return tlsRefusal(server, message, code);
  return undefined;
}

/** A wrong (WRONGPASS) or missing (NOAUTH) password, naming the `setting` that holds it. */
function passwordRefusal(
  message: string,
  server: string,
  setting: string,
): RedisAccessRefusedError | undefined {
  if (message.startsWith("WRONGPASS") || message.startsWith("ERR invalid password")) {
    return new RedisAccessRefusedError(
      `${server} refused the password (${message}): set ${setting} to the password it requires`,
    );
  }
  if (message.startsWith("NOAUTH")) {
    return new RedisAccessRefusedError(
      `${server} requires a password (NOAUTH): set ${setting} to the password it requires`,
    );
  }
  return undefined;
}

/** A failed handshake: most often a CA the client does not trust, else a server without TLS. */
function tlsRefusal(server: string, reason: string, code: string): RedisAccessRefusedError {
  const fix = code.startsWith("ERR_SSL_")
    ? "is TLS on at that port? For a Redis without TLS use redis:// and leave REDIS_TLS_CA unset"
    : code === "ERR_TLS_CERT_ALTNAME_INVALID"
      ? "connect by a host name that the server's certificate names"
      : "set REDIS_TLS_CA to the CA that signed the server's certificate";
  return new RedisAccessRefusedError(`TLS to ${server} failed: ${reason} (${code}): ${fix}`);
}
