// @vitest-environment node
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type PrivateRedis, startPrivateRedis } from "../../../lab/processes/redis-server.ts";
import { RedisCheckpointSaver } from "../../../service/langgraph/redis-checkpointer.ts";

// The suite calls describe, it, expect... as globals (vitest `globals: true`), which this
// project's vitest.config.ts does not set: give it vitest's own, for this file alone, before
// the suite's module is loaded.
Object.assign(globalThis, { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it });
const { deltaChannelHistoryTests, validate } = await import(
  "@langchain/langgraph-checkpoint-validation"
);

let server: PrivateRedis | undefined;
let client: Redis | undefined;
let instances = 0;

const initializer = {
  checkpointerName: "RedisCheckpointSaver",
  beforeAllTimeout: 30_000,
  async beforeAll() {
    server = await startPrivateRedis();
    client = new Redis(server.url);
  },
  async afterAll() {
    await client?.quit();
    await server?.stop();
  },
  // Each checkpointer its own key prefix on the shared server: none sees another's threads.
  createCheckpointer() {
    if (!client) throw new Error("the private Redis is not started");
    instances += 1;
    return new RedisCheckpointSaver({ redis: client, keyPrefix: `validation:${instances}:` });
  },
};

// The whole suite (put, putWrites, getTuple, list, deleteThread), then the getDeltaChannelHistory
// conformance tests the suite leaves opt-in (they run after its beforeAll started the server).
validate(initializer);
deltaChannelHistoryTests(initializer);
