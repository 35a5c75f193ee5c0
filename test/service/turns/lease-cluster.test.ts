import { afterEach, describe, expect, it } from "vitest";
import { workerPids } from "../../../lab/processes/app-cluster.ts";
import { conversationKey } from "../../../service/auth/conversation-key.ts";
import { issueToken } from "../../../service/auth/tokens.ts";
import { conversationKeys } from "../../../service/store/commands.ts";
import { type FixedApp, startFixedApp } from "../../helpers/fixed-app.ts";
import { client } from "../../helpers/http.ts";
import { waitFor } from "../../helpers/wait-for.ts";

const SECRET = "lease-cluster-test-secret";
const PREFIX = "agent-sandbox-test:";
const IDENTITY = { tenant: "t", user: "u" };
// Renewed every third of it: a worker would have to stall 2/3 of a lease (1.3 s) to lose it.
const LEASE_MS = 2000;

describe("leases on a real cluster: renewed while a turn runs, free soon after a crash", () => {
  let fixed: FixedApp | undefined;
  afterEach(async () => {
    await fixed?.stop();
    fixed = undefined;
  });

  const start = (env: Record<string, string>) =>
    startFixedApp({
      workers: 2,
      env: {
        AUTH_SECRET: SECRET,
        REDIS_KEY_PREFIX: PREFIX,
        TURN_LEASE_MS: String(LEASE_MS),
        ...env,
      },
    });

  it("a turn twice as long as TURN_LEASE_MS succeeds, once", async () => {
    fixed = await start({ AGENT_LATENCY_MS: String(2 * LEASE_MS) });
    const http = client(fixed.app.url, issueToken(IDENTITY, SECRET));
    const answer = await http.turn("long", { text: "take your time", turnId: "t1" });
    expect(answer).toMatchObject({ status: 200, body: { messagesSeen: 1 } });
    const history = await http.messages("long");
    expect((history.body as { messages: unknown[] }).messages).toHaveLength(2);
  });

  it("SIGKILL of the workers mid-turn: the conversation is free again within a lease of the workers' return", async () => {
    fixed = await start({ AGENT_LATENCY_MS: "3000", TURN_STRATEGY: "reject" });
    const app = fixed;
    const http = client(app.app.url, issueToken(IDENTITY, SECRET));
    const lease = conversationKeys(conversationKey(PREFIX, IDENTITY, "held")).lease;
    void http.turn("held", { text: "a long turn", turnId: "killed" }).catch(() => undefined);
    await waitFor(
      "the turn to hold its lease",
      async () => (await app.inspector.exists(lease)) === 1,
    );
    const killedAt = Date.now();
    for (const pid of await workerPids(app.app.url, 8)) process.kill(pid, "SIGKILL");

    // Every turn takes AGENT_LATENCY_MS (3 s): the time to the first 200 includes one such turn.
    const servedAfter = async (conversation: string) => {
      const turn = `${conversation}-after`;
      for (;;) {
        const res = await http
          .turn(conversation, { text: "are you back?", turnId: turn })
          .catch(() => undefined);
        if (res?.status === 200) return Date.now() - killedAt;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const [control, held] = await Promise.all([servedAfter("control"), servedAfter("held")]);
    // The control conversation needs only the workers back; the held one also the lease's end.
    expect(held).toBeLessThanOrEqual(control + LEASE_MS + 1500);
    const history = await http.messages("held");
    const turnIds = (history.body as { messages: { turnId: string }[] }).messages.map(
      (m) => m.turnId,
    );
    expect(turnIds).toEqual(["held-after", "held-after"]);
  }, 60_000);
});
