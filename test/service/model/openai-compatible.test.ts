import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { freePort } from "../../../lab/processes/free-port.ts";
import { ModelError } from "../../../service/errors.ts";
import { SERVICE_ERROR_STATUS } from "../../../service/http/error-handler.ts";
import type { AgentMessage } from "../../../service/model/model-client.ts";
import { OpenAICompatibleModel } from "../../../service/model/openai-compatible.ts";
import { type FakeOpenAIServer, fakeReply, startFakeOpenAI } from "./fake-openai-server.ts";

const KEY = "sk-test-secret-key";

const conversation: AgentMessage[] = [
  { role: "user", content: "Hi, my name is Ada." },
  { role: "assistant", content: "Hello Ada!" },
  { role: "user", content: "What is my name?" },
];

/** Rejects with a ModelError carrying 502 / model_error, and returns it for more checks. */
async function expectModelError(promise: Promise<unknown>): Promise<ModelError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the model call to reject");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelError);
  const modelError = error as ModelError;
  expect(SERVICE_ERROR_STATUS[modelError.code]).toBe(502);
  expect(modelError.code).toBe("model_error");
  expect(modelError.message).not.toContain(KEY);
  return modelError;
}

describe("OpenAICompatibleModel against a fake OpenAI-compatible server", () => {
  let fake: FakeOpenAIServer;
  const model = (options: { apiKey?: string; timeoutMs?: number } = {}) =>
    new OpenAICompatibleModel({
      // A trailing slash is tolerated: the request still goes to /v1/chat/completions.
      baseUrl: `${fake.url}/v1/`,
      model: "fake",
      apiKey: options.apiKey,
      timeoutMs: options.timeoutMs ?? 5000,
    });

  beforeAll(async () => {
    fake = await startFakeOpenAI();
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    fake.mode = "ok";
    fake.requests.length = 0;
  });

  it("posts the model and the messages in order, with the bearer key, and returns the content", async () => {
    // The chat service hands over stored messages with extra fields; only role and content go out.
    const stored = conversation.map((m, i) => ({ ...m, turnId: `t${i}`, at: "2024-01-01" }));
    const reply = await model({ apiKey: KEY }).complete(stored);

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/v1/chat/completions");
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.body).toEqual({ model: "fake", messages: conversation });
    expect(reply).toBe(fakeReply(request?.body));
    expect(reply).toBe('fake model saw 3 message(s); last user message: "What is my name?"');
  });

  it("sends the system message first, and no Authorization header without a key", async () => {
    await model().complete(conversation, { system: "Be brief." });
    const [request] = fake.requests;
    expect(request?.headers.authorization).toBeUndefined();
    expect(request?.body).toEqual({
      model: "fake",
      messages: [{ role: "system", content: "Be brief." }, ...conversation],
    });
  });

  it("turns an HTTP 500 into a ModelError quoting the server's message", async () => {
    fake.mode = "fail";
    const error = await expectModelError(model({ apiKey: KEY }).complete(conversation));
    expect(error.message).toBe(
      'model "fake" did not answer: the model server answered HTTP 500: fake failure',
    );
  });

  it("turns a 401 into a ModelError that points at MODEL_API_KEY without echoing the key", async () => {
    fake.mode = "unauthorized";
    const error = await expectModelError(model({ apiKey: KEY }).complete(conversation));
    expect(error.message).toContain("HTTP 401");
    expect(error.message).toContain("MODEL_API_KEY");
  });

  it("turns a body that is not a chat completion into a ModelError", async () => {
    fake.mode = "malformed";
    const error = await expectModelError(model().complete(conversation));
    expect(error.message).toMatch(/malformed response: choices\.0\.message\.content: /);
  });

  it("turns a body that is not JSON into a ModelError", async () => {
    fake.mode = "not-json";
    const error = await expectModelError(model().complete(conversation));
    expect(error.message).toContain("malformed response: the body is not JSON (HTTP 200)");
  });

  it("gives up after MODEL_TIMEOUT_MS when the server never answers", async () => {
    fake.mode = "hang";
    const started = Date.now();
    const error = await expectModelError(model({ timeoutMs: 200 }).complete(conversation));
    expect(error.message).toBe('model "fake" did not answer: no answer within 200 ms');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(fake.requests).toHaveLength(1);
  });

  it("turns a connection error into a ModelError", async () => {
    const closedPort = await freePort();
    const unreachable = new OpenAICompatibleModel({
      baseUrl: `http://127.0.0.1:${closedPort}/v1`,
      model: "fake",
      apiKey: KEY,
    });
    const error = await expectModelError(unreachable.complete(conversation));
    expect(error.message).toMatch(/could not reach the model server \(ECONNREFUSED\)/);
  });
});
