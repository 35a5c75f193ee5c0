import type { CheckTotals } from "../../lab/check/types.ts";
import { getScenario, type ScenarioName } from "../../scenarios/catalogue.ts";

/** The counts a broken variant's design fixes (a count left out is not fixed; see below). */
export type DesignedCounts = Partial<
  Pick<CheckTotals, "lost" | "stale" | "divergent" | "streamGap" | "acknowledged">
>;

/**
 * What each broken variant's design makes the checker count over `conversations` x `turns`
 * sequential turns, each turn after a conversation's first sent to another worker than the
 * previous one (the load test's hop; with one worker, only the lessons that need no second
 * worker are broken). `undefined`: nothing is fixed by the design but bounds (naive-save).
 */
export function designedCounts(
  scenario: ScenarioName,
  { conversations, turns }: { conversations: number; turns: number },
): DesignedCounts | undefined {
  if (scenario === "streaming") return streamingCounts(conversations * turns);
  const everyTurn = conversations * turns;
  const laterTurns = conversations * (turns - 1);
  switch (scenario) {
    // Each turn is stored only where it was served (a worker's Map, a key with the worker's
    // pid, a directory per worker, a worker's MemorySaver or MemorySession), and every
    // history is read from every worker: every turn
    // is missing from some worker's read, every later turn is answered by a worker that never
    // saw the previous one, and every conversation's reads disagree.
    case "memory":
    case "unstable-key":
    case "file-store":
    case "langgraph":
    case "openai-agents":
      return { lost: everyTurn, stale: laterTurns, divergent: conversations };
    // Nothing is ever stored: every read is empty (every turn lost, all reads agree), and
    // every turn is given only its own message (every later turn stale).
    case "copied-state":
      return { lost: everyTurn, stale: laterTurns, divergent: 0 };
    // Every later turn is sent right after the previous answer, well inside the 1000 ms before
    // the previous write lands: all stale. The final reads wait 2000 ms for the last writes,
    // but whether they landed by then is still timing, so lost and divergent are not fixed.
    case "unawaited-write":
      return { stale: laterTurns };
    // Every write is awaited, so the store has everything; the agents are given one message.
    case "rebuilt-manager":
      return { lost: 0, stale: laterTurns, divergent: 0 };
    // How many overlapping turns load the same history is timing: see naiveSaveLostBounds.
    case "naive-save":
      return undefined;
  }
}

/**
 * streaming, under its load defaults (every turn streamed, round(0.5 x S x T) of them, chosen by
 * the seed, dropped after 2 deltas and resumed on another worker): each reply's events are in
 * its producer's memory only, so every resume is answered 404 and every dropped turn is a
 * stream gap that never got its done (not acknowledged). The history itself is in Redis: nothing
 * lost, stale or divergent.
 */
function streamingCounts(everyTurn: number): DesignedCounts {
  const dropped = Math.round((getScenario("streaming").load?.disconnectRate ?? 0) * everyTurn);
  return { streamGap: dropped, acknowledged: everyTurn - dropped, lost: 0, stale: 0, divergent: 0 };
}

/**
 * naive-save: some acknowledged turns are lost, and the save that lands last keeps at least
 * its own turn in each conversation.
 */
export function naiveSaveLostBounds({
  conversations,
  turns,
}: {
  conversations: number;
  turns: number;
}): { min: number; max: number } {
  return { min: 1, max: conversations * (turns - 1) };
}

/** The totals' values for the counts `designed` names, to compare with toEqual. */
export function pickCounts(totals: CheckTotals, designed: DesignedCounts): DesignedCounts {
  const picked: DesignedCounts = {};
  for (const key of Object.keys(designed) as (keyof DesignedCounts)[]) picked[key] = totals[key];
  return picked;
}
