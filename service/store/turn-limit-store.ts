import { Cluster } from "ioredis";
import { RedisStore } from "rate-limit-redis";
import type { AppConfig } from "../config.ts";
import { StoreUnavailableError } from "../errors.ts";
import type { RedisClient } from "./redis-client.ts";

/** Where the turn counts live: beside the conversations, under the app's key prefix. */
export function turnLimitPrefix(config: Pick<AppConfig, "REDIS_KEY_PREFIX">): string {
  return `${config.REDIS_KEY_PREFIX}turn-limit:`;
}

type Reply = Awaited<ReturnType<RedisStore["retryableIncrement"]>>;

/**
 * rate-limit-redis on this service's ioredis client (one Redis or a Cluster): every worker
 * and host counts a user's turns in the same key. A failing Redis is a 503 store_unavailable
 * like any other store error, never a turn let through uncounted.
 */
export class RedisTurnLimitStore extends RedisStore {
  constructor(redis: RedisClient, prefix: string) {
    super({ sendCommand: (...command: string[]) => sendCommand(redis, command), prefix });
  }

  /** Redis may not be up yet when the app starts: the first turn loads the scripts again. */
  override async init(options: Parameters<RedisStore["init"]>[0]): Promise<void> {
    await super.init(options).catch(() => undefined);
  }

  /** A script load that failed (Redis not up yet when the app started) is tried again. */
  override async increment(key: string) {
    this.incrementScriptSha = this.incrementScriptSha.catch(() => this.loadIncrementScript());
    try {
      return await super.increment(key);
    } catch (error) {
      throw new StoreUnavailableError(error);
    }
  }
}

/**
 * A Cluster routes EVALSHA by its key, but SCRIPT LOAD has no key: load the script on every
 * master, so whichever one owns a user's key knows it.
 */
async function sendCommand(redis: RedisClient, [name = "", ...args]: string[]): Promise<Reply> {
  if (redis instanceof Cluster && name.toUpperCase() === "SCRIPT") {
    const masters = redis.nodes("master");
    const [first] = await Promise.all(masters.map((node) => node.call(name, ...args)));
    return first as Reply;
  }
  return (await redis.call(name, ...args)) as Reply;
}
