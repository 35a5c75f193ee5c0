import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppCluster } from "../../../lab/processes/app-cluster.ts";
import { conversationKey } from "../../../service/auth/conversation-key.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import type { ErrorResponse, MessagesResponse, TurnResponse } from "../../../service/contract.ts";
import { DEFAULT_SYSTEM_MESSAGE } from "../../../service/model/agent.ts";
import { RedisConversationStore } from "../../../service/store/redis-store.ts";
import { type FixedApp, startFixedApp } from "../../helpers/fixed-app.ts";
import { client } from "../../helpers/http.ts";
import { type FakeOpenAIServer, fakeReply, startFakeOpenAI } from "./fake-openai-server.ts";

const SECRET = "model-error-test-secret";
const API_KEY = "sk-e2e-secret-key";
const PREFIX = "agent-sandbox:";

// The cluster's workers are child processes; they reach the fake on 127.0.0.1 in this process.
describe("a real fixed cluster whose model is an OpenAI-compatible server", () => {
  let fake: FakeOpenAIServer;
  let fixed: FixedApp;
  let app: AppCluster;
  let inspector: Redis;
  const identity = { tenant: "model", user: `u${Date.now()}` };
  const token = issueToken(identity, SECRET);
  const listKey = RedisConversationStore.messagesKey(conversationKey(PREFIX, identity, "conv"));

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fixed = await startFixedApp({
      env: {
        AUTH_SECRET: SECRET,
        AGENT_MODEL: "openai",
        MODEL_BASE_URL: fake.url,
        MODEL_NAME: "fake",
        MODEL_API_KEY: API_KEY,
        MODEL_TIMEOUT_MS: "5000",
      },
    });
    ({ app, inspector } = fixed);
  });
  afterAll(async () => {
    await inspector?.del(listKey);
    await fixed?.stop();
    await fake?.close();
  });

  it("answers with the model's reply, and a model failure is a 502 that stores nothing", async () => {
    const api = client(app.url, token);

    // 1. A turn the model answers.
    const first = await api.turn("conv", { text: "Hi, my name is Ada." });
    expect(first.status).toBe(200);
    const turn = first.body as TurnResponse;
    expect(turn.messagesSeen).toBe(1);
    expect(fake.requests).toHaveLength(1);
    const firstRequest = fake.requests[0];
    expect(firstRequest?.path).toBe("/chat/completions");
    expect(firstRequest?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(firstRequest?.body).toEqual({
      model: "fake",
      messages: [
        { role: "system", content: DEFAULT_SYSTEM_MESSAGE },
        { role: "user", content: "Hi, my name is Ada." },
      ],
    });
    expect(turn.reply).toBe(fakeReply(firstRequest?.body));

    // 2. The model fails: 502 model_error, no secret in the answer.
    fake.mode = "fail";
    const failed = await api.turn("conv", { text: "this turn must leave no trace" });
    expect(failed.status).toBe(502);
    const error = (failed.body as ErrorResponse).error;
    expect(error.code).toBe("model_error");
    expect(error.message).toBe(
      'model "fake" did not answer: the model server answered HTTP 500: fake failure',
    );
    expect(JSON.stringify(failed.body)).not.toContain(API_KEY);
    expect(fake.requests).toHaveLength(2);

    // 3. Nothing of the failed turn was stored: the history is still the first turn's two messages.
    const history = await api.messages("conv");
    expect(history.status).toBe(200);
    expect((history.body as MessagesResponse).messages.map((m) => [m.role, m.content])).toEqual([
      ["user", "Hi, my name is Ada."],
      ["assistant", turn.reply],
    ]);
    expect(await inspector.llen(listKey)).toBe(2);

    // 4. The model is back: the next turn sees the first turn only, never the failed one.
    fake.mode = "ok";
    const next = await api.turn("conv", { text: "What is my name?" });
    expect(next.status).toBe(200);
    expect((next.body as TurnResponse).messagesSeen).toBe(3);
    expect(fake.requests.at(-1)?.body).toEqual({
      model: "fake",
      messages: [
        { role: "system", content: DEFAULT_SYSTEM_MESSAGE },
        { role: "user", content: "Hi, my name is Ada." },
        { role: "assistant", content: turn.reply },
        { role: "user", content: "What is my name?" },
      ],
    });
    expect(await inspector.llen(listKey)).toBe(4);
  });
});
