import fc from "fast-check";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppCluster, workerPids } from "../../../lab/processes/app-cluster.ts";
import { conversationKey } from "../../../service/auth/conversation-key.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import type { MessagesResponse } from "../../../service/contract.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import { type FixedApp, startFixedApp } from "../../helpers/fixed-app.ts";
import { rawFuzzCases } from "../../helpers/fuzz-raw-requests.ts";
import { type FuzzTarget, httpFuzzCases } from "../../helpers/fuzz-requests.ts";
import { describeCase, type FuzzCase, wrongAnswer } from "../../helpers/fuzz-verdict.ts";
import { client } from "../../helpers/http.ts";
import { sendExact, sendRaw } from "../../helpers/raw-http.ts";
import { changedKeys, snapshotPrefix } from "../../helpers/redis-snapshot.ts";
import { runLimited } from "../../helpers/run-limited.ts";

/** The workers answering /healthz, sorted: equal before and after means none died or was replaced. */
async function servingPids(url: string): Promise<number[]> {
  return [...(await workerPids(url, WORKERS * 6))].sort((a, b) => a - b);
}

/** FUZZ_SEED=<n> replays a failing run exactly; the seed is in every failure message. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
const MALFORMED = 1000;
/** One valid turn after every VALID_EVERY malformed requests: the server must still store those. */
const VALID_EVERY = 25;
const CONCURRENCY = 8;
const WORKERS = 2;
const SECRET = "fuzz-test-secret";
const PREFIX = `fuzz-${process.pid}:`;
const TEXT_MAX_CHARS = 300;
const VALID_CONVERSATIONS = ["valid-a", "valid-b", "valid-c"];
const VALID_TEXTS = ["héllo 😀", "שלום \u202edlrow", "zero\u200bwidth", "e\u0301", "👩‍👩‍👧 family"];

type Job =
  | { kind: "malformed"; fuzzCase: FuzzCase }
  | { kind: "valid"; conversationId: string; text: string };

describe("hostile input against a real fixed cluster and a private Redis", () => {
  let fixed: FixedApp;
  let app: AppCluster;
  let inspector: Redis;
  const victim = { tenant: "fuzz", user: "victim" };
  const sender = { tenant: "fuzz", user: "valid-sender" };
  const target: FuzzTarget = {
    secret: SECRET,
    identity: victim,
    conversationId: "victim-conv",
    textMaxChars: TEXT_MAX_CHARS,
    bodyLimitBytes: 16 * 1024,
  };

  beforeAll(async () => {
    fixed = await startFixedApp({
      // Never the machine's Redis: a throwaway server this test owns.
      workers: WORKERS,
      env: {
        AUTH_SECRET: SECRET,
        AGENT_LATENCY_MS: "0",
        BODY_LIMIT: "16kb",
        TEXT_MAX_CHARS: String(TEXT_MAX_CHARS),
        REDIS_KEY_PREFIX: PREFIX,
      },
    });
    ({ app, inspector } = fixed);
  });
  afterAll(async () => {
    await fixed?.stop();
  });

  it(`answers ${MALFORMED} generated malformed requests with documented 4xx errors and stores none of them (seed ${SEED})`, async () => {
    const started = Date.now();
    // The conversation every malformed request aims at already has a history to damage.
    const victimApi = client(app.url, issueToken(victim, SECRET));
    for (const text of ["first", "second"]) {
      expect((await victimApi.turn(target.conversationId, { text })).status).toBe(200);
    }
    const pidsBefore = await servingPids(app.url);
    expect(pidsBefore).toHaveLength(WORKERS);
    const storeBefore = await snapshotPrefix(inspector, PREFIX);
    const dbSizeBefore = await inspector.dbsize();
    expect(storeBefore.size).toBeGreaterThan(0);

    const cases = fc.sample(
      fc.oneof(
        { arbitrary: httpFuzzCases(target), weight: 4 },
        { arbitrary: rawFuzzCases(target), weight: 1 },
      ),
      { seed: SEED, numRuns: MALFORMED },
    );
    const jobs = withValidTurnsInterleaved(cases);
    const senderApi = client(app.url, issueToken(sender, SECRET));
    const failures: string[] = [];
    const statuses = new Map<string, number>();
    await runLimited(jobs, CONCURRENCY, async (job, index) => {
      if (job.kind === "valid") {
        const res = await senderApi
          .turn(job.conversationId, { text: job.text })
          .catch((error: Error) => ({ status: 0, body: error.message }));
        if (res.status !== 200)
          failures.push(`#${index} valid turn got ${res.status}: ${JSON.stringify(res.body)}`);
        return;
      }
      const { fuzzCase } = job;
      try {
        const res =
          fuzzCase.via === "raw"
            ? await sendRaw(app.port, fuzzCase.bytes, 10_000)
            : await sendExact(app.port, fuzzCase.request, 10_000);
        const tally = `${res.status}${fuzzCase.via === "raw" && !res.headers["x-worker-pid"] ? " (node)" : ""}`;
        statuses.set(tally, (statuses.get(tally) ?? 0) + 1);
        const wrong = wrongAnswer(fuzzCase, res);
        if (wrong) failures.push(`#${index} ${wrong} <- ${describeCase(fuzzCase)}`);
      } catch (error) {
        failures.push(
          `#${index} no answer (${(error as Error).message}) <- ${describeCase(fuzzCase)}`,
        );
      }
    });
    expect(failures, `seed ${SEED} (rerun with FUZZ_SEED=${SEED})`).toEqual([]);

    // No worker crashed and was replaced: the same pids answer, each with its store.
    expect(await servingPids(app.url)).toEqual(pidsBefore);

    // A polluted Object.prototype.text would make an empty body pass as a turn.
    for (let i = 0; i < WORKERS * 2; i++) {
      const res = await senderApi.turn("canary", {});
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain("text");
    }

    // The valid turns were stored (the comparison below is not vacuous), text for text...
    const validKeys = VALID_CONVERSATIONS.map((id) => conversationKey(PREFIX, sender, id));
    const sentTexts = jobs.flatMap((job) => (job.kind === "valid" ? [job.text] : []));
    const storedTexts: string[] = [];
    for (const id of VALID_CONVERSATIONS) {
      const history = (await senderApi.messages(id)).body as MessagesResponse;
      storedTexts.push(...history.messages.filter((m) => m.role === "user").map((m) => m.content));
    }
    expect(storedTexts.sort()).toEqual(sentTexts.sort());

    // ...and they are the only change: every other key under the prefix is byte for byte the
    // same, with no refreshed TTL, no new key, and nothing written outside the prefix.
    const storeAfter = await snapshotPrefix(inspector, PREFIX);
    const changed = changedKeys(storeBefore, storeAfter);
    for (const key of validKeys) expect(changed).toContain(conversationKeys(key).messages);
    const unexpected = changed.filter(
      (key) => !validKeys.some((valid) => key.startsWith(`${valid}:`)),
    );
    expect(unexpected, `seed ${SEED}`).toEqual([]);
    const added = [...storeAfter.keys()].filter((key) => !storeBefore.has(key)).length;
    expect(await inspector.dbsize()).toBe(dbSizeBefore + added);

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const tallies = [...statuses].sort().map(([status, count]) => `${status}: ${count}`);
    console.log(
      `fuzz (seed ${SEED}): ${cases.length} malformed + ${sentTexts.length} valid requests in ${seconds} s; ${tallies.join(", ")}`,
    );
  });
});

/** The malformed cases, with one valid turn (unicode text included) after every VALID_EVERY. */
function withValidTurnsInterleaved(cases: readonly FuzzCase[]): Job[] {
  return cases.flatMap((fuzzCase, index): Job[] => {
    if (index % VALID_EVERY !== 0) return [{ kind: "malformed", fuzzCase }];
    const n = index / VALID_EVERY;
    const valid: Job = {
      kind: "valid",
      conversationId: VALID_CONVERSATIONS[n % VALID_CONVERSATIONS.length] as string,
      text: `valid ${n}: ${VALID_TEXTS[n % VALID_TEXTS.length]}`,
    };
    return [{ kind: "malformed", fuzzCase }, valid];
  });
}
