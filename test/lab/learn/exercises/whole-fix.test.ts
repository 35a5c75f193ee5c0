import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { checkExercise } from "../../../../lab/learn/exercises/check.ts";
import { partsFor } from "../../../../lab/learn/exercises/parts.ts";
import {
  exerciseFile,
  rewriteImports,
  variantFile,
  writeExerciseCopy,
} from "../../../../lab/learn/exercises/prepare.ts";
import { renderOutcome } from "../../../../lab/learn/exercises/report.ts";
import { checkWholeFix } from "../../../../lab/learn/exercises/whole-fix.ts";
import { useExercisesDir } from "../../../helpers/exercises-dir.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
// Under .runs/ (git-ignored, outside Biome and tsconfig), as exercises.test.ts does.
const TEST_DIR = join(ROOT, ".runs", `whole-fix-test-${process.pid}`);
const LOAD = { workers: 4, conversations: 8, turns: 4, connections: 8 } as const;

/**
 * The measured partial fix of `memory` (issue 18): the history lives in Redis and the append is
 * awaited, so the checker says VALID; but storeReachable() always says true, close() releases
 * nothing, and the turn loads the whole history (store.load) instead of the context window.
 */
const PARTIAL_MEMORY_FIX = `import {
  assistantMessage,
  type ChatService,
  type ConversationRef,
  type ServiceDeps,
  type Turn,
  type TurnResult,
  userMessage,
} from "../../service/chat/chat-service.ts";
import type { ChatMessage } from "../../service/contract.ts";
import { AssistantAgent } from "../../service/model/agent.ts";
import type { ConversationStore } from "../../service/store/conversation-store.ts";

export class AgentChatService implements ChatService {
  readonly backend: string;
  private readonly assistant: AssistantAgent;
  private readonly store: ConversationStore;

  constructor(deps: ServiceDeps) {
    this.assistant = new AssistantAgent("assistant", deps.config);
    this.store = deps.redisStore();
    this.backend = this.store.backend;
  }

  async handleTurn(turn: Turn, store = this.store): Promise<TurnResult> {
    const messages = await store.load(turn.key);
    const before = messages.length;
    const user = userMessage(turn);
    messages.push(user);
    const reply = await this.assistant.generateReply(messages);
    const answer = assistantMessage(turn, reply);
    const after = await store.append(turn.key, [user, answer]);
    return { reply, messagesSeen: messages.length, before, after, key: turn.key };
  }

  async history(ref: ConversationRef): Promise<ChatMessage[]> {
    return this.store.load(ref.key);
  }

  async storeReachable(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
`;

/** Writes `source` (imports as in broken/ and fixed/) as the learner's copy of memory. */
async function writeMemoryCopy(source: string): Promise<void> {
  const file = exerciseFile("memory");
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, rewriteImports(source, dirname(file)));
}

/** The reference solution with `from` replaced by `to`: one part of it undone. */
async function fixedMemoryWith(from: string, to: string): Promise<string> {
  const fixed = await readFile(variantFile("fixed", "memory"), "utf8");
  if (!fixed.includes(from)) throw new Error(`fixed/memory has no ${JSON.stringify(from)}`);
  return fixed.replace(from, to);
}

useExercisesDir(TEST_DIR);

describe("the exercise check accepts only a whole fix", () => {
  const logDir = join(TEST_DIR, "logs");

  it("refuses the partial memory fix, naming each missing part, though the histories are right", async () => {
    await writeMemoryCopy(PARTIAL_MEMORY_FIX);
    const outcome = await checkExercise({ scenario: "memory", ...LOAD, logDir });
    expect(outcome.result?.check.verdict, JSON.stringify(outcome.messages)).toBe("valid");
    expect(outcome.status).toBe("unsolved");
    expect(outcome.solved).toBe(false);
    expect(outcome.missing.map((m) => m.part)).toEqual(["health", "context-window", "close"]);

    const [health, window, close] = outcome.missing.map((m) => m.hint);
    expect(health).toBe(
      "storeReachable() says the store is up while Redis is down: ask the store (ping).",
    );
    expect(window).toContain("the agent was given 11 messages with CONTEXT_WINDOW_MESSAGES=4");
    expect(window).toContain("LRANGE 0 -1");
    expect(window).toContain("store.loadRecent(key, this.contextWindow)");
    expect(close).toBe(
      "close() left 1 Redis connection open: release the store (await this.store.close()).",
    );

    // Printed: the headline, then one line per missing part, each named.
    const printed = renderOutcome(outcome);
    expect(printed).toContain("the fix is not whole: 3 parts are missing");
    expect(printed).toContain(`/healthz: ${health}`);
    expect(printed).toContain(`context window: ${window}`);
    expect(printed).toContain(`close(): ${close}`);
    expect(printed).not.toContain("Solved");
  });

  it("the reference solution (fixed/memory) passes: valid, nothing missing", async () => {
    await writeExerciseCopy("memory", "fixed");
    const outcome = await checkExercise({ scenario: "memory", ...LOAD, logDir });
    expect(outcome.status, JSON.stringify(outcome.messages)).toBe("solved");
    expect(outcome.missing).toEqual([]);
    expect(renderOutcome(outcome)).toContain("And the fix is whole");
  });
});

describe("the probes of a whole fix, one part undone at a time", () => {
  it("a turn that loads the whole history and gives the agent only its tail: the read is refused", async () => {
    await writeMemoryCopy(
      await fixedMemoryWith(
        "const { messages, length: before } = await store.loadRecent(turn.key, this.contextWindow);",
        "const history = await store.load(turn.key);\n    const before = history.length;\n    const messages = history.slice(-this.contextWindow);",
      ),
    );
    const result = await checkWholeFix("memory");
    if (!result.ok) throw new Error(result.output);
    expect(result.missing).toHaveLength(1);
    expect(result.missing[0]?.part).toBe("context-window");
    expect(result.missing[0]?.hint).toMatch(/^the turns read the whole history from Redis/);
  });

  it("a turn that reports the window's length as historyLength: refused, the length named", async () => {
    await writeMemoryCopy(
      await fixedMemoryWith(
        "const { messages, length: before } = await store.loadRecent(turn.key, this.contextWindow);",
        "const { messages } = await store.loadRecent(turn.key, this.contextWindow);\n    const before = messages.length;",
      ),
    );
    const result = await checkWholeFix("memory");
    if (!result.ok) throw new Error(result.output);
    expect(result.missing).toHaveLength(1);
    expect(result.missing[0]?.part).toBe("context-window");
    // The window is 4: the 4th turn follows 6 stored messages but was given 4 of them.
    expect(result.missing[0]?.hint).toMatch(
      /^turn 4 reported historyLength 4, but 6 messages were stored before it/,
    );
  });

  it("a close() that never ends: named, and the check is not kept waiting", async () => {
    await writeMemoryCopy(
      await fixedMemoryWith("await this.store.close();", "await new Promise(() => {});"),
    );
    const result = await checkWholeFix("memory");
    if (!result.ok) throw new Error(result.output);
    expect(result.missing).toEqual([
      {
        part: "close",
        hint: "close() did not end within 3 s: release the store (await this.store.close()), and nothing else.",
      },
    ]);
  });

  it("a copy on files is checked for its window only: no Redis to stop or to release", () => {
    expect(partsFor("file-store")).toEqual(["context-window"]);
    expect(partsFor("memory")).toEqual(["health", "context-window", "close"]);
  });
});
