import type { Redis } from "ioredis";
import { type RedisClient, waitUntilReady } from "../store/redis-client.ts";

/** Idle connections kept for the next reader; more are opened when needed and closed after. */
const MAX_IDLE = 8;
/** A new connection's wait to be ready: its first read fails fast if it is not. */
const CONNECT_WAIT_MS = 1000;

/**
 * Connections for blocking reads (XREAD BLOCK): a blocked command holds its connection until
 * it returns, so each reader waiting at the same time needs one of its own, apart from the
 * connection every other command of the worker shares. Duplicates of that client (same
 * settings: fail fast, never resend), a few kept idle for the next stream.
 */
export class BlockingReaders {
  private readonly idle: RedisClient[] = [];
  private closed = false;

  constructor(private readonly client: RedisClient) {}

  async acquire(): Promise<RedisClient> {
    const kept = this.idle.pop();
    if (kept) return kept;
    // A Cluster duplicates into a Cluster, a Redis (or a Sentinel-run one) into a Redis.
    const connection = (this.client as Redis).duplicate() as RedisClient;
    // Errors are the reads' to report; an unhandled "error" event would crash the worker.
    connection.on("error", () => {});
    await waitUntilReady(connection, CONNECT_WAIT_MS);
    return connection;
  }

  /** Back to the pool, unless the pool is full or the connection failed (`broken`). */
  release(connection: RedisClient, broken = false): void {
    if (this.closed || broken || this.idle.length >= MAX_IDLE) connection.disconnect();
    else this.idle.push(connection);
  }

  close(): void {
    this.closed = true;
    for (const connection of this.idle.splice(0)) connection.disconnect();
  }
}
