import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueToken } from "../../service/auth/tokens.ts";
import { FIXED_ON_REDIS, startFixedScenario } from "../helpers/fixed-app.ts";
import { client } from "../helpers/http.ts";
import { type ReplicatedRedis, startReplicatedRedis } from "../helpers/replicated-redis.ts";

const SECRET = "replica-wait-everywhere-secret";

// One replica asked for (what Sentinel gets by default), for the app's default 500 ms.
const ENV = { AUTH_SECRET: SECRET, REDIS_WAIT_REPLICAS: "1", REDIS_WAIT_MS: "500" };

describe("every fixed app on Redis acknowledges a turn only once a replica has it (WAIT)", () => {
  let redis: ReplicatedRedis;

  beforeAll(async () => {
    redis = await startReplicatedRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  // Whatever writes its turns: an append, a checkpoint, a session's items.
  it.each(FIXED_ON_REDIS)(
    "%s: 200 with its replica in sync, 503 store_write_uncertain once the replica is gone",
    async (scenario) => {
      const app = await startFixedScenario(redis.primary.url, scenario, ENV);
      try {
        const token = issueToken({ tenant: "replica-wait", user: scenario }, SECRET);
        const chat = client(app.url, token);
        expect((await chat.turn("c1", { text: "Hi, my name is Ada.", turnId: "t1" })).status).toBe(
          200,
        );
        await redis.detachReplica();
        try {
          const unconfirmed = await chat.turn("c2", { text: "Hi, my name is Ada.", turnId: "t2" });
          expect(unconfirmed.status).toBe(503);
          expect(unconfirmed.body).toMatchObject({ error: { code: "store_write_uncertain" } });
        } finally {
          await redis.attachReplica();
        }
      } finally {
        await app.stop();
      }
    },
  );
});
