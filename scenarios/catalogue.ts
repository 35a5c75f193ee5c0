/**
 * What the checker (lab/check) reports that a broken variant shows; its AnomalyKind names
 * them (a test keeps the two in step).
 */
export type ExpectedAnomaly = "lost" | "stale" | "divergent" | "over-limit" | "stream-gap";

/** `exercise` is a learner's copy under `exercises/<scenario>/`. */
export type AppName = "broken" | "fixed" | "exercise";

/** Where state lives in a variant: decides what the demo has to start for it. */
export type Backend = "memory" | "redis" | "files";

/** One cause of "state not updating when scaling", with a broken and a fixed variant. */
export interface Scenario {
  name: string;
  title: string;
  /** What goes wrong, in plain words. */
  problem: string;
  /** What to look for in the per-turn JSON logs (`.runs/*.log`). */
  inTheLogs: string;
  /** What the fixed variant does differently. */
  fix: string;
  /** Anomalies the checker reports for the broken variant on every run (each count > 0). */
  brokenAnomalies: readonly ExpectedAnomaly[];
  /** True when the broken variant fails even with a single worker. */
  brokenWithOneWorker: boolean;
  backends: { broken: Backend; fixed: Backend };
  /**
   * Where the state the lesson is about lives in each variant, in plain words for every
   * label: "history in worker memory", "history in Redis", ...
   */
  keeps: { broken: string; fixed: string };
  /** Environment both variants run with by default: makes any race window explicit. */
  env: Record<string, string>;
  /** For the exercise: where to look, without giving the answer away. */
  hint: string;
  /**
   * Load-test defaults the lesson needs (e.g. overlapping turns, streamed turns that drop,
   * final reads that wait for writes that land late: see LoadOptions.readAfterMs).
   */
  load?: { overlap?: number; stream?: boolean; disconnectRate?: number; readAfterMs?: number };
  /** False when the scenario is not offered as an exercise. */
  exercise?: boolean;
}

/**
 * unawaited-write's race window: every store write takes this long. The next turn's read
 * must come inside it on every run, also on a loaded CI machine, where a worker can stall
 * for a few hundred ms (250 ms was crossed there); an awaited write pays it per turn.
 */
const UNAWAITED_WRITE_DELAY_MS = 1000;

export const SCENARIOS = [
  {
    name: "memory",
    title: "History in process memory",
    problem:
      "The chat service keeps each conversation's history in a Map on the object. Every cluster worker has its own Map, so a conversation whose turns land on different workers is split between them.",
    inTheLogs:
      'Consecutive "turn" lines of one key show different workerId values, and messagesBefore drops back (0, 2, 0, 4, ...) instead of growing by 2.',
    fix: "Keep no state in the process: load the history from Redis at the start of every turn and append the new messages before answering.",
    brokenAnomalies: ["lost", "stale", "divergent"],
    brokenWithOneWorker: false,
    backends: { broken: "memory", fixed: "redis" },
    keeps: { broken: "history in worker memory", fixed: "history in Redis" },
    env: {},
    hint: "Where does `histories` live, and which process can see it? ServiceDeps offers a shared store.",
  },
  {
    name: "copied-state",
    title: "A step mutates a copy and never writes it back",
    problem:
      "The turn deep-copies the loaded state (structuredClone) for the agent step, adds the new messages to the copy, then writes back the canonical object, which never saw them. (A shallow copy would not show this: `{ ...state }` shares the messages array, so pushing to it changes the original too.)",
    inTheLogs:
      "messagesAfter equals messagesBefore on every turn: nothing is ever stored, on any worker, even with one worker.",
    fix: "Write back the state the step actually changed (or change the canonical state itself).",
    brokenAnomalies: ["lost", "stale"],
    brokenWithOneWorker: true,
    backends: { broken: "redis", fixed: "redis" },
    keeps: { broken: "history in Redis", fixed: "history in Redis" },
    env: {},
    hint: "Follow the new messages: which object receives them, and which object is saved?",
  },
  {
    name: "unawaited-write",
    title: "The save is not awaited",
    problem: `The turn starts the append but does not await it, so the answer goes out first. The store takes STORE_WRITE_DELAY_MS (${UNAWAITED_WRITE_DELAY_MS} ms here) to apply a write, so the next turn, on any worker, reads the history before the previous write lands.`,
    inTheLogs:
      "messagesBefore of a turn is 2 lower than the previous turn's messagesAfter: the agent did not see the turn just answered.",
    fix: "Await the append before answering.",
    brokenAnomalies: ["stale"],
    brokenWithOneWorker: true,
    backends: { broken: "redis", fixed: "redis" },
    keeps: { broken: "history in Redis", fixed: "history in Redis" },
    env: { STORE_WRITE_DELAY_MS: String(UNAWAITED_WRITE_DELAY_MS) },
    // The lesson is the stale reply: the final reads give the late writes time to land.
    load: { readAfterMs: 2 * UNAWAITED_WRITE_DELAY_MS },
    hint: "When does the response go out, compared with when the write completes?",
  },
  {
    name: "rebuilt-manager",
    title: "The group chat manager is rebuilt empty on every request",
    problem:
      "A multi-agent GroupChat (planner, researcher, writer) and its GroupChatManager are created per request with `messages: []`. The messages are saved, but the manager never sees them: every turn starts from zero and the same agent always speaks first.",
    inTheLogs:
      "messagesSeen is 1 on every turn while messagesAfter keeps growing: the store has the history, the agents are not given it.",
    fix: "Build the GroupChat from the conversation's stored messages on every request.",
    brokenAnomalies: ["stale"],
    brokenWithOneWorker: true,
    backends: { broken: "redis", fixed: "redis" },
    keeps: { broken: "history in Redis", fixed: "history in Redis" },
    env: {},
    hint: "What message list does the new GroupChat start with?",
  },
  {
    name: "unstable-key",
    title: "The state key differs between requests of one conversation",
    problem:
      "The key comes from an X-Session header when the client sends one, and otherwise from something per worker (the pid). Clients that omit the header save under one key and load from another, and anyone who sends someone else's X-Session reads their conversation.",
    inTheLogs: 'The "key" field of one conversation\'s turns changes with the worker.',
    fix: "Derive the key from the verified identity (tenant, user) and the conversation id, nothing else.",
    brokenAnomalies: ["lost", "stale", "divergent"],
    brokenWithOneWorker: false,
    backends: { broken: "redis", fixed: "redis" },
    keeps: { broken: "history in Redis, under a key per worker", fixed: "history in Redis" },
    env: {},
    hint: "Print the key each worker uses for the same conversation.",
  },
  {
    name: "file-store",
    title: "The article's file store, with a disk per worker",
    problem:
      "One JSON file per conversation, as in the article's own fix, but each worker writes under its own directory, as separate containers or hosts each have their own disk.",
    inTheLogs: "Each worker's messagesBefore only counts the turns that worker served.",
    fix: "All workers share one state directory, and each write is atomic (temp file, then rename). Correct for the workers of one machine; several machines need shared storage such as Redis.",
    brokenAnomalies: ["lost", "stale", "divergent"],
    brokenWithOneWorker: false,
    backends: { broken: "files", fixed: "files" },
    keeps: {
      broken: "history in files, a directory per worker",
      fixed: "history in files, one directory per machine",
    },
    env: {},
    hint: "Which directory does each worker read and write?",
  },
  {
    name: "naive-save",
    title: "Load, generate, save the whole history back",
    problem:
      "The article's own pattern: each turn loads the whole history, generates, and saves the whole history back (SET). Turns of one conversation that overlap (a double submit, two tabs, a retry) load the same history, and the last save overwrites the others: a lost update. The load test sends up to 3 turns of a conversation at once (--overlap 3); a 20 ms write delay (STORE_WRITE_DELAY_MS) keeps the window open on every run.",
    inTheLogs:
      'Two "turn" lines of one key with the same messagesBefore: both started from the same history, and only one of them survives.',
    fix: "Append only the turn's own messages, one turn of a conversation at a time across all workers (a Redis lease with a fencing token, service/turns/turn-gate.ts), and refuse a write whose lease or history version is stale.",
    brokenAnomalies: ["lost"],
    brokenWithOneWorker: true,
    backends: { broken: "redis", fixed: "redis" },
    keeps: { broken: "history in Redis", fixed: "history in Redis" },
    env: { STORE_WRITE_DELAY_MS: "20" },
    hint: "What does the save write, and what if another turn saved in between?",
    load: { overlap: 3 },
    // Its fix needs the turn gate, which only fixed/ apps run (runsTurnGate): not an exercise.
    exercise: false,
  },
  {
    name: "rate-limit",
    title: "A rate limit counted in each worker's memory",
    problem:
      "Each user may send RATE_LIMIT_TURNS_PER_MINUTE turns a minute (20 here). The limiter (express-rate-limit) counts them with its default MemoryStore, in the memory of the worker that serves the turn. Every cluster worker keeps its own count, so a user whose turns spread over 4 workers gets about 4 times the limit through.",
    inTheLogs:
      'Count the "turn" lines of the run: more than 20 in a minute for one user, spread over every workerId; the refused turns have no "turn" line (429 rate_limited).',
    fix: "Count in Redis (rate-limit-redis on the app's own connection, service/store/turn-limit-store.ts): every worker and host adds to the same count of a verified user.",
    brokenAnomalies: ["over-limit"],
    brokenWithOneWorker: false,
    backends: { broken: "redis", fixed: "redis" },
    keeps: { broken: "turn counts in worker memory", fixed: "turn counts in Redis" },
    env: { RATE_LIMIT_TURNS_PER_MINUTE: "20" },
    hint: "Where does the limiter keep its count, and which process can see it?",
    // The exercise flow checks histories, not limits: a demo and a test, not an exercise.
    exercise: false,
  },
  {
    name: "langgraph",
    title: "LangGraph's MemorySaver under several workers",
    problem:
      "A LangGraph.js graph (StateGraph with MessagesAnnotation, the conversation's key as thread_id) compiled with MemorySaver, the checkpointer LangGraph's docs show first. MemorySaver keeps each thread's checkpoints in the worker's memory, so every cluster worker has its own copy of each thread.",
    inTheLogs:
      'Consecutive "turn" lines of one key show different workerId values, and messagesBefore counts only the turns that worker served.',
    fix: 'Compile the graph with a checkpointer on Redis (service/langgraph/). Under the turn gate each turn stores one checkpoint (durability: "exit") in one script that checks the turn\'s lease, refuses a fork of the thread and records the turn.',
    brokenAnomalies: ["lost", "stale", "divergent"],
    brokenWithOneWorker: false,
    backends: { broken: "memory", fixed: "redis" },
    keeps: { broken: "checkpoints in worker memory", fixed: "checkpoints in Redis" },
    env: {},
    hint: "Which checkpointer is the graph compiled with, and which process can read it? service/langgraph/ has one on Redis.",
  },
  {
    name: "openai-agents",
    title: "The Agents SDK's MemorySession under several workers",
    problem:
      "An OpenAI Agents SDK Agent run by a Runner with a MemorySession per conversation, the session the SDK's docs show first (\"intended for demos or tests\"), kept in a Map in the worker's memory. Every cluster worker has its own sessions.",
    inTheLogs:
      'Consecutive "turn" lines of one key show different workerId values, and messagesBefore counts only the turns that worker served.',
    fix: "Keep the session in Redis under the verified key (service/agents-sdk/). Under the turn gate each turn reads the context window and commits its items with the turn's record, in one script that checks the turn's lease.",
    brokenAnomalies: ["lost", "stale", "divergent"],
    brokenWithOneWorker: false,
    backends: { broken: "memory", fixed: "redis" },
    keeps: { broken: "session in worker memory", fixed: "session in Redis" },
    env: {},
    hint: "Where does the MemorySession keep its items, and which process can see them? service/agents-sdk/ has a session on Redis.",
  },
  {
    name: "streaming",
    title: "A streamed reply kept in the producing worker's memory",
    problem:
      "Replies are streamed (server-sent events) and a client whose connection drops resumes with Last-Event-ID. The reply's events are kept in the memory of the worker producing them, the pattern of popular resumable-stream libraries: a client that reconnects to another worker, or after the producing worker died, finds no stream there. The load test streams every turn and drops half of them after 2 deltas (--stream --disconnect-rate 0.5), resuming each on a fresh connection to another worker.",
    inTheLogs:
      'The "turn" line of a dropped turn is on one worker; its resume is answered 404 by another: the turn was stored, but the client never got the rest of its reply.',
    fix: "Keep each turn's events in a Redis Stream (service/streams/): any worker reads them from Last-Event-ID on and waits for the live ones (XREAD BLOCK); the producer's appends are fenced by the turn's lease, and done is appended in the same script as the turn's messages.",
    brokenAnomalies: ["stream-gap"],
    brokenWithOneWorker: false,
    backends: { broken: "redis", fixed: "redis" },
    keeps: { broken: "reply stream in worker memory", fixed: "reply stream in Redis" },
    env: {},
    hint: "Where does a reply's stream live while it is written, and which worker can read it?",
    load: { stream: true, disconnectRate: 0.5 },
  },
] as const satisfies readonly Scenario[];

export type ScenarioName = (typeof SCENARIOS)[number]["name"];
export const SCENARIO_NAMES = SCENARIOS.map((s) => s.name) as readonly ScenarioName[];
/** The scenarios offered as exercises (`npm run exercise`). */
export const EXERCISES = (SCENARIOS as readonly (Scenario & { name: ScenarioName })[]).filter(
  (s) => s.exercise !== false,
);
export const EXERCISE_NAMES = EXERCISES.map((s) => s.name) as readonly ScenarioName[];
export const APPS = ["broken", "fixed"] as const satisfies readonly AppName[];

export function getScenario(name: ScenarioName): Scenario {
  return SCENARIOS.find((s) => s.name === name) as Scenario;
}

export function parseApp(value: string | undefined): AppName {
  if (value === "broken" || value === "fixed" || value === "exercise") return value;
  throw new Error(`--app must be one of ${APPS.join(", ")} (got ${JSON.stringify(value)})`);
}

export function parseScenario(value: string | undefined): ScenarioName {
  const name = value ?? "memory";
  if ((SCENARIO_NAMES as readonly string[]).includes(name)) return name as ScenarioName;
  throw new Error(
    `--scenario must be one of ${SCENARIO_NAMES.join(", ")} (got ${JSON.stringify(name)})`,
  );
}

/**
 * Where a variant keeps the state its lesson is about ("history in Redis"), the third word of
 * every label (app · scenario · where state lives); undefined for names the sandbox does not know
 * (a report of someone else's app).
 */
export function keepsOf(app: string, scenario: string): string | undefined {
  const known = SCENARIOS.find((s) => s.name === scenario) as Scenario | undefined;
  if (!known) return undefined;
  if (app === "broken" || app === "fixed") return known.keeps[app];
  return app === "exercise" ? "your copy" : undefined;
}

/** The backend an app needs: exercises start from the broken variant, and may become the fixed one. */
export function backendOf(app: AppName, scenario: ScenarioName): Backend {
  const { backends } = getScenario(scenario);
  if (app === "exercise")
    return backends.fixed === "redis" || backends.broken === "redis" ? "redis" : backends.fixed;
  return backends[app];
}

/**
 * The fixed apps on Redis run one turn of a conversation at a time (TurnGate); broken apps
 * and exercises never do, so what a learner's copy stores is its own doing.
 */
export function runsTurnGate(app: AppName, scenario: ScenarioName): boolean {
  return app === "fixed" && getScenario(scenario).backends.fixed === "redis";
}
