/**
 * An interactive chat with one app; each line is one turn, each reply says which worker
 * served it and how much of the conversation the agent was given.
 *   npm run chat -- --app broken                  # the app from `npm start`, or its own cluster
 *   npm run chat -- --app fixed --workers 2       # always its own cluster, 2 workers
 *   printf 'hi\nagain\n/history\n' | npm run chat -- --app broken   # scripted
 */

import { parseArgs } from "node:util";
import pc from "picocolors";
import { type ChatTarget, findOrStartApp } from "../lab/learn/chat/app-target.ts";
import { runChatLoop } from "../lab/learn/chat/chat-loop.ts";
import { banner } from "../lab/learn/chat/format.ts";
import { ChatSession } from "../lab/learn/chat/session.ts";
import { keepsOf, parseApp, parseScenario, SCENARIOS } from "../scenarios/catalogue.ts";
import { issueToken } from "../service/auth/tokens.ts";
import { DEV_AUTH_SECRET } from "../service/config.ts";

const HELP = `Usage: npm run chat -- --app broken|fixed [options]
  --app broken|fixed   the app to chat with
  --scenario NAME      one of: ${SCENARIOS.map((s) => s.name).join(", ")} (default memory)
  --url URL            chat with the app at URL as it is
  --workers N          start a cluster of its own with N workers (default 4); without it, an
                       app already running on the default port (npm start) is used if it matches
Each line you type is one turn; /history, /new, /help, /quit (or Ctrl+D).`;

let target: Promise<ChatTarget> | undefined;
let closing = false;

/** Stops what this process started (the cluster, a private Redis), once, then exits. */
async function shutdown(code: number): Promise<never> {
  if (!closing) {
    closing = true;
    // A start in progress is waited for, so its processes are stopped rather than orphaned.
    const started = await target?.catch(() => undefined);
    if (started?.owned) console.log(pc.dim(`stopping the ${started.app} app and what it needed`));
    await started?.stop();
    process.exit(code);
  }
  return new Promise<never>(() => {});
}
process.on("SIGINT", () => void shutdown(130));
process.on("SIGTERM", () => void shutdown(143));
process.on("SIGHUP", () => void shutdown(129));
// Output closed by its reader (`| head`): nobody is watching any more, but the cluster must still stop.
process.stdout.on("error", () => void shutdown(0));

try {
  const { values } = parseArgs({
    options: {
      app: { type: "string" },
      scenario: { type: "string" },
      url: { type: "string" },
      workers: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const app = parseApp(values.app);
  const scenario = parseScenario(values.scenario);
  const workers = Number(values.workers ?? 4);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new Error("--workers must be a whole number from 1 to 64");
  const secret = process.env.AUTH_SECRET ?? DEV_AUTH_SECRET;

  target = findOrStartApp({
    app,
    scenario,
    workers,
    url: values.url,
    reuse: values.workers === undefined,
    authSecret: secret,
    note: (message) => console.log(pc.dim(message)),
  });
  const found = await target;
  const session = new ChatSession({
    url: found.url,
    token: issueToken({ tenant: "workshop", user: "chat" }, secret),
  });
  // The scenario that runs may differ from the one asked (--url, or the demo's Redis fallback).
  const known = SCENARIOS.find((s) => s.name === found.scenario);
  const about = known && found.app === "broken" ? known.problem : undefined;
  console.log(
    banner({
      ...found,
      keeps: keepsOf(found.app, found.scenario),
      problem: about,
      conversationId: session.conversationId,
    }),
  );
  const interactive = Boolean(process.stdin.isTTY);
  await runChatLoop({
    session,
    input: process.stdin,
    output: process.stdout,
    interactive,
    onInterrupt: () => void shutdown(130),
  });
  await shutdown(0);
} catch (error) {
  console.error(pc.red(error instanceof Error ? error.message : String(error)));
  await shutdown(1);
}
