import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisHandle, startPrivateRedis } from "../../lab/processes/redis-server.ts";
import { conversationKey } from "../../service/auth/conversation-key.ts";
import { issueToken } from "../../service/auth/tokens.ts";
import type { ChatMessage, TurnResponse } from "../../service/contract.ts";
import { streamKeyOf } from "../../service/store/commands.ts";
import { FIXED_ON_REDIS, startFixedScenario } from "../helpers/fixed-app.ts";
import { client } from "../helpers/http.ts";
import { idsOf, joinedText, readStream } from "../helpers/sse.ts";

const SECRET = "streaming-everywhere-secret";
const ENV = { AUTH_SECRET: SECRET, AGENT_CHUNK_DELAY_MS: "20" };

describe("every fixed app on Redis streams its replies through Redis", () => {
  let redis: RedisHandle;
  let inspector: Redis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    inspector = new Redis(redis.url);
  });

  afterAll(async () => {
    inspector?.disconnect();
    await redis?.stop();
  });

  // One worker each: what is checked is that the stream is in Redis, where any worker reads it
  // (test/service/http/streamed-turns.test.ts resumes on another worker of four).
  it.each(FIXED_ON_REDIS)(
    "%s: the stream is in Redis, and resumed from it the reply is whole, as stored",
    async (scenario) => {
      const app = await startFixedScenario(redis.url, scenario, ENV);
      try {
        const identity = { tenant: "streaming", user: scenario };
        const token = issueToken(identity, SECRET);
        const auth = { authorization: `Bearer ${token}` };
        const first = await readStream(`${app.url}/conversations/c1/turns`, {
          method: "POST",
          headers: { ...auth, "content-type": "application/json", accept: "text/event-stream" },
          body: JSON.stringify({ text: "Hi, my name is Ada.", turnId: "t1" }),
          dropAfter: 1,
        });
        expect(first.status).toBe(200);
        const headers = { ...auth, "last-event-id": String(idsOf(first.events).at(-1)) };
        const rest = await readStream(`${app.url}/conversations/c1/turns/t1/stream`, { headers });
        const all = [...first.events, ...rest.events];
        expect(idsOf(all)).toEqual(all.map((_, i) => i + 1));
        const done = JSON.parse(all.at(-1)?.data ?? "{}") as TurnResponse;
        expect(all.at(-1)?.event).toBe("done");
        expect(joinedText(all)).toBe(done.reply);
        const read = await client(app.url, token).messages("c1");
        const messages = (read.body as { messages: ChatMessage[] }).messages;
        expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
        expect(messages[1]?.content).toBe(done.reply);
        // Every event, as the client got it, is an entry of the turn's stream in Redis.
        const key = streamKeyOf(conversationKey("agent-sandbox:", identity, "c1"), "t1");
        const entries = await inspector.xrange(key, "-", "+");
        expect(entries.map(([id]) => Number(id.split("-")[1]))).toEqual(idsOf(all));
      } finally {
        await app.stop();
      }
    },
  );
});
