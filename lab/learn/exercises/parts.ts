import { backendOf, type ScenarioName } from "../../../scenarios/catalogue.ts";

/**
 * What a whole fix does besides keeping the histories right, each proven on the learner's
 * copy (probe-app.ts): a copy that only passes the history checker is a partial fix.
 */
export const WHOLE_FIX_PARTS = ["health", "context-window", "close"] as const;
export type WholeFixPart = (typeof WHOLE_FIX_PARTS)[number];

/** A part the learner's copy lacks, and a hint that names what is missing. */
export interface MissingPart {
  part: WholeFixPart;
  hint: string;
}

/** How the output names each part. */
export const PART_LABEL: Record<WholeFixPart, string> = {
  health: "/healthz",
  "context-window": "context window",
  close: "close()",
};

/** What each part asks for, in the header of the copy and in the solved message. */
const PART_DEMAND: Record<WholeFixPart, string> = {
  health: "/healthz says whether the store answers (store.reachable is false while Redis is down)",
  "context-window":
    "the agent gets at most CONTEXT_WINDOW_MESSAGES earlier messages, read from the store as a bounded range, and each answer's historyLength counts the whole history",
  close: "close() releases the store's connections",
};

/**
 * What `part` asks of `scenario`'s copy. LangGraph keeps a thread's messages as one value of
 * its checkpoint, so a turn reads all of them whatever it gives the agent: no bounded read.
 */
export function partDemand(part: WholeFixPart, scenario: ScenarioName): string {
  if (part === "context-window" && scenario === "langgraph") {
    return "the agent gets at most CONTEXT_WINDOW_MESSAGES earlier messages, and each answer's historyLength counts the whole history (the checkpoint holds the thread's messages as one value, read whole)";
  }
  return PART_DEMAND[part];
}

/** True when the learner's copy is to keep its state in Redis (every exercise but file-store). */
export function onRedis(scenario: ScenarioName): boolean {
  return backendOf("exercise", scenario) === "redis";
}

/**
 * The parts a scenario's copy is checked for. Only a copy on Redis has a store that can be
 * down or connections to release (the file store has neither); every copy has a window.
 */
export function partsFor(scenario: ScenarioName): WholeFixPart[] {
  return onRedis(scenario) ? [...WHOLE_FIX_PARTS] : ["context-window"];
}

/** In the order of WHOLE_FIX_PARTS, whatever order the probes found them in. */
export function inPartOrder(missing: readonly MissingPart[]): MissingPart[] {
  const rank = (found: MissingPart) => WHOLE_FIX_PARTS.indexOf(found.part);
  return [...missing].sort((a, b) => rank(a) - rank(b));
}

/** Starts the line on which the probe process (probe-copy.ts) prints the parts it found missing. */
export const PROBE_RESULT_PREFIX = "WHOLE_FIX_MISSING ";
