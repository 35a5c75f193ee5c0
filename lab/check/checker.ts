import type { ChatMessage, Role, ServedBy } from "../../service/contract.ts";
import type { FinalRead, RunRecord, TurnRecord } from "../load/records.ts";
import { COUNT_OF, noAnomalies } from "./anomaly-counts.ts";
import { acknowledgedBefore, acknowledgedBeforeSent, messagesBasedOn } from "./based-on.ts";
import type {
  Anomaly,
  AnomalyCounts,
  AnomalyKind,
  CheckResult,
  CheckTotals,
  ConversationCheck,
  Verdict,
} from "./types.ts";

const ROLES: readonly Role[] = ["user", "assistant"];

/** One sentence per anomaly kind for the verdict's reasons, in the order they are reported. */
const INVALID_REASONS: Record<keyof AnomalyCounts, (count: number) => string> = {
  lost: (n) => `${n} acknowledged ${plural(n, "turn")} lost (missing from a final read)`,
  stale: (n) =>
    `${n} acknowledged ${plural(n, "turn")} answered from stale history (fewer messages than were acknowledged before ${n === 1 ? "it was" : "they were"} sent)`,
  duplicated: (n) => `${n} ${plural(n, "turn")} duplicated in a final read`,
  outOfOrder: (n) =>
    `${n} ${plural(n, "turn")} stored out of order (contradicting the order the client saw them acknowledged)`,
  interleaved: (n) =>
    `${n} ${plural(n, "turn")} interleaved (a user message not directly followed by its own reply)`,
  staleContext: (n) =>
    `${n} acknowledged ${plural(n, "turn")} answered without messages stored before ${n === 1 ? "it" : "them"} (stale context under overlap)`,
  unexpected: (n) =>
    `${n} unexpected ${plural(n, "message")} in final reads (never sent, altered, or from a rejected turn)`,
  divergent: (n) => `${n} ${plural(n, "conversation")} whose successful final reads disagree`,
};

/**
 * Judges a load run of the chat service: every conversation should keep a complete,
 * ordered, consistent history of its acknowledged turns, whichever worker serves it.
 * Pure: it only looks at the run record.
 */
export function checkRun(run: RunRecord): CheckResult {
  const turnsById = groupBy(run.turns, (turn) => turn.conversationId);
  const readsById = groupBy(run.reads, (read) => read.conversationId);
  const ids = [...new Set([...turnsById.keys(), ...readsById.keys()])].sort(compareStrings);

  const conversations = ids.map((id) =>
    checkConversation(id, turnsById.get(id) ?? [], readsById.get(id) ?? []),
  );
  const totals = sumTotals(run, conversations);
  const { verdict, reasons } = decideVerdict(run, conversations, totals);
  return {
    verdict,
    reasons,
    totals,
    conversations,
    anomalies: conversations.flatMap((conversation) => conversation.anomalies),
  };
}

// ---------------------------------------------------------------------------
// One conversation
// ---------------------------------------------------------------------------

/** A successful final read, indexed by `${turnId}/${role}` so checks can ask "where is it?". */
interface ReadView {
  read: FinalRead;
  /** Who served it, already phrased for a detail sentence. */
  worker: string;
  /** Position of the first occurrence of each message key. */
  firstAt: Map<string, number>;
  /** How many times each message key occurs. */
  occurrences: Map<string, number>;
}

/** What every detector of one conversation looks at. */
interface ConversationContext {
  conversationId: string;
  /** All turn records of the conversation, by script position. */
  turns: TurnRecord[];
  /** Only the acknowledged turns: the ones the service promised to keep. */
  okTurns: TurnRecord[];
  /** Only successful reads: a failed read proves nothing about the history. */
  okReads: ReadView[];
}

function checkConversation(
  conversationId: string,
  turnRecords: TurnRecord[],
  reads: FinalRead[],
): ConversationCheck {
  const turns = [...turnRecords].sort((a, b) => a.index - b.index);
  const okTurns = turns.filter((turn) => turn.outcome === "ok");
  const ctx: ConversationContext = {
    conversationId,
    turns,
    okTurns,
    okReads: reads.filter((read) => read.ok).map(viewRead),
  };

  // Kinds are kept in a fixed order so reports read the same from run to run.
  const anomalies = [
    ...findLost(ctx),
    ...findStale(ctx),
    ...findDuplicated(ctx),
    ...findOutOfOrder(ctx),
    ...findInterleaved(ctx),
    ...findStaleContext(ctx),
    ...findUnexpected(ctx),
    ...findDivergent(ctx),
  ];

  return {
    conversationId,
    turnsSent: turns.length,
    acknowledged: okTurns.length,
    failed: turns.filter((turn) => turn.outcome === "failed").length,
    unknownOutcome: turns.filter((turn) => turn.outcome === "unknown").length,
    distinctWorkers: distinctWorkers(okTurns).size,
    finalReads: reads.length,
    finalReadsOk: ctx.okReads.length,
    ...countAnomalies(anomalies),
    anomalies,
  };
}

function viewRead(read: FinalRead): ReadView {
  const firstAt = new Map<string, number>();
  const occurrences = new Map<string, number>();
  read.messages.forEach((message, position) => {
    const key = messageKey(message.turnId, message.role);
    if (!firstAt.has(key)) firstAt.set(key, position);
    occurrences.set(key, (occurrences.get(key) ?? 0) + 1);
  });
  return { read, worker: describeWorker(read.servedBy), firstAt, occurrences };
}

// ---------------------------------------------------------------------------
// Detectors: each returns at most one anomaly per turn (or message, or conversation)
// ---------------------------------------------------------------------------

/** Acknowledged turns with a message missing from at least one successful read. */
function findLost(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.okTurns) {
    const missingRoles = new Set<Role>();
    const missingFrom = ctx.okReads.filter((view) => {
      const absent = ROLES.filter((role) => !view.firstAt.has(messageKey(turn.turnId, role)));
      for (const role of absent) missingRoles.add(role);
      return absent.length > 0;
    });
    if (missingFrom.length === 0) continue;

    const what =
      missingRoles.size === ROLES.length
        ? "its messages are"
        : `its ${[...missingRoles].join(" and ")} message is`;
    const workers = missingFrom.map((view) => view.worker).join(", ");
    anomalies.push(
      anomaly(
        ctx,
        "lost",
        turn,
        `${turnLabel(turn)} was acknowledged but ${what} missing from ${missingFrom.length} of ${ctx.okReads.length} successful final reads (served by ${workers})`,
      ),
    );
  }
  return anomalies;
}

/**
 * Acknowledged turns whose agent saw less history than the client had seen acknowledged
 * before sending: 2 messages per earlier acknowledged turn, plus the turn's own user message.
 * Turns sent while an earlier one was still in flight are not required to see it.
 */
function findStale(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.okTurns) {
    const seen = messagesBasedOn(turn);
    if (seen === undefined) continue; // nothing to check against
    const acknowledged = acknowledgedBefore(ctx.okTurns, turn);
    const expected = 2 * acknowledged + 1;
    if (seen >= expected) continue;

    anomalies.push(
      anomaly(
        ctx,
        "stale",
        turn,
        `turn ${turn.index + 1} was answered from ${seen} ${plural(seen, "message")} but ${2 * acknowledged} were acknowledged before it was sent (it should have seen at least ${expected}, counting its own)`,
      ),
    );
  }
  return anomalies;
}

/** Turns with a message stored more than once in a single successful read. */
function findDuplicated(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.turns) {
    const detail = firstDuplicate(turn, ctx.okReads);
    if (detail !== undefined) anomalies.push(anomaly(ctx, "duplicated", turn, detail));
  }
  return anomalies;
}

function firstDuplicate(turn: TurnRecord, reads: ReadView[]): string | undefined {
  for (const view of reads) {
    for (const role of ROLES) {
      const count = view.occurrences.get(messageKey(turn.turnId, role)) ?? 0;
      if (count > 1) {
        return `${turnLabel(turn)}'s ${role} message appears ${count} times in the final read served by ${view.worker}`;
      }
    }
  }
  return undefined;
}

/**
 * Turns stored in an order the client could not have produced: after a turn it saw
 * acknowledged only later, or with the reply stored before the question.
 */
function findOutOfOrder(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.turns) {
    const detail = firstOrderViolation(turn, ctx);
    if (detail !== undefined) anomalies.push(anomaly(ctx, "out-of-order", turn, detail));
  }
  return anomalies;
}

function firstOrderViolation(later: TurnRecord, ctx: ConversationContext): string | undefined {
  for (const view of ctx.okReads) {
    if (replyBeforeQuestion(later, view)) {
      return `${turnLabel(later)}'s assistant message is stored before its user message in the final read served by ${view.worker}`;
    }
    const userAt = view.firstAt.get(messageKey(later.turnId, "user"));
    if (userAt === undefined) continue;

    // Only turns the client saw acknowledged before sending `later` impose an order on it.
    const earlier = ctx.okTurns.find((candidate) => {
      if (candidate === later || !acknowledgedBeforeSent(candidate, later)) return false;
      const candidateAt = view.firstAt.get(messageKey(candidate.turnId, "user"));
      return candidateAt !== undefined && candidateAt > userAt;
    });
    if (earlier !== undefined) {
      return `${turnLabel(later)} is stored before turn ${earlier.index + 1} in the final read served by ${view.worker}, although turn ${earlier.index + 1} was acknowledged before it was sent`;
    }
  }
  return undefined;
}

/** The turn's reply is stored before its question in this read (first occurrences). */
function replyBeforeQuestion(turn: TurnRecord, view: ReadView): boolean {
  const userAt = view.firstAt.get(messageKey(turn.turnId, "user"));
  const assistantAt = view.firstAt.get(messageKey(turn.turnId, "assistant"));
  return userAt !== undefined && assistantAt !== undefined && assistantAt < userAt;
}

/**
 * Turns whose question and reply are not adjacent in a successful read: another message sits
 * between the user message and its own assistant message (user A, user B, assistant A, ...).
 * Only a turn stored exactly once with both messages, question first, can be interleaved:
 * a missing message is `lost`, a repeated one `duplicated`, a reply before its question
 * `out-of-order` (in any read, so it is never counted twice), and rejected turns `unexpected`.
 */
function findInterleaved(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.turns) {
    if (turn.outcome === "failed") continue;
    if (ctx.okReads.some((view) => replyBeforeQuestion(turn, view))) continue;
    const detail = firstInterleaving(turn, ctx);
    if (detail !== undefined) anomalies.push(anomaly(ctx, "interleaved", turn, detail));
  }
  return anomalies;
}

function firstInterleaving(turn: TurnRecord, ctx: ConversationContext): string | undefined {
  const turnsById = new Map(ctx.turns.map((candidate) => [candidate.turnId, candidate]));
  const userKey = messageKey(turn.turnId, "user");
  const assistantKey = messageKey(turn.turnId, "assistant");
  for (const view of ctx.okReads) {
    if (view.occurrences.get(userKey) !== 1 || view.occurrences.get(assistantKey) !== 1) continue;
    const userAt = view.firstAt.get(userKey) as number;
    const assistantAt = view.firstAt.get(assistantKey) as number;
    if (assistantAt <= userAt + 1) continue; // adjacent (or reversed: out-of-order)

    const between = view.read.messages.slice(userAt + 1, assistantAt);
    const [first] = between as [ChatMessage, ...ChatMessage[]];
    const owner = turnsById.get(first.turnId);
    const firstDescribed =
      owner === undefined
        ? `a ${first.role} message with turnId ${first.turnId}`
        : `turn ${owner.index + 1}'s ${first.role} message`;
    return `${turnLabel(turn)}'s user message is not directly followed by its reply in the final read served by ${view.worker}: ${between.length} other ${plural(between.length, "message")} ${between.length === 1 ? "sits" : "sit"} between them, starting with ${firstDescribed}`;
  }
  return undefined;
}

/**
 * Acknowledged turns answered from fewer messages than are stored before their user message
 * in a successful read (plus the user message itself): the reply was generated without some
 * of the history it now follows, as when two overlapping turns read the same history.
 * Unlike `stale`, this judges the final stored order, not what the client saw acknowledged.
 * Reads holding the user message other than exactly once are skipped (`lost`, `duplicated`);
 * a message repeated before it counts once (`duplicated`), and the turn's own reply is not
 * counted if it was stored first (`out-of-order`).
 */
function findStaleContext(ctx: ConversationContext): Anomaly[] {
  const anomalies: Anomaly[] = [];
  for (const turn of ctx.okTurns) {
    const seen = messagesBasedOn(turn);
    if (seen === undefined) continue; // nothing to check against
    const detail = firstStaleContext(turn, seen, ctx.okReads);
    if (detail !== undefined) anomalies.push(anomaly(ctx, "stale-context", turn, detail));
  }
  return anomalies;
}

function firstStaleContext(
  turn: TurnRecord,
  messagesSeen: number,
  reads: ReadView[],
): string | undefined {
  const userKey = messageKey(turn.turnId, "user");
  for (const view of reads) {
    if (view.occurrences.get(userKey) !== 1) continue;
    const position = view.firstAt.get(userKey) as number;
    // Other turns' messages, each counted once: a repeat is `duplicated`, not missing context.
    const storedBefore = new Set(
      view.read.messages
        .slice(0, position)
        .filter((message) => message.turnId !== turn.turnId)
        .map((message) => messageKey(message.turnId, message.role)),
    ).size;
    if (messagesSeen >= storedBefore + 1) continue;

    return `turn ${turn.index + 1} (${turn.turnId}) was answered from ${messagesSeen} ${plural(messagesSeen, "message")} but its user message is at position ${position} (0-based) in the final read served by ${view.worker}, after ${storedBefore} stored ${plural(storedBefore, "message")} (it should have seen at least ${storedBefore + 1}, counting its own)`;
  }
  return undefined;
}

/**
 * Messages that should not exist: an unknown turnId, a user message whose text was altered,
 * or anything from a rejected turn. `unknown`-outcome turns may legitimately appear.
 * Counted once per (turnId, role), however many reads show it.
 */
function findUnexpected(ctx: ConversationContext): Anomaly[] {
  const turnsById = new Map(ctx.turns.map((turn) => [turn.turnId, turn]));
  const found = new Map<string, Anomaly>();
  for (const view of ctx.okReads) {
    for (const message of view.read.messages) {
      const key = messageKey(message.turnId, message.role);
      if (found.has(key)) continue;
      const detail = unexpectedDetail(message, turnsById.get(message.turnId), view.worker);
      if (detail === undefined) continue;
      found.set(key, {
        kind: "unexpected",
        conversationId: ctx.conversationId,
        turnId: message.turnId,
        detail,
      });
    }
  }
  return [...found.values()];
}

function unexpectedDetail(
  message: ChatMessage,
  turn: TurnRecord | undefined,
  worker: string,
): string | undefined {
  if (turn === undefined) {
    return `a ${message.role} message with turnId ${message.turnId}, which matches no turn the client sent, appears in the final read served by ${worker}`;
  }
  if (turn.outcome === "failed") {
    const status = turn.status === undefined ? "" : ` (status ${turn.status})`;
    return `turn ${turn.index + 1} was rejected${status} but its ${message.role} message appears in the final read served by ${worker}`;
  }
  if (message.role === "user" && message.content !== turn.text) {
    return `${turnLabel(turn)}'s user message in the final read served by ${worker} differs from the text the client sent`;
  }
  return undefined;
}

/** A conversation whose successful reads do not all return the same sequence of messages. */
function findDivergent(ctx: ConversationContext): Anomaly[] {
  // Group reads by their exact message sequence; one group means they all agree.
  const variants = new Map<string, { length: number; workers: string[] }>();
  for (const view of ctx.okReads) {
    const keys = view.read.messages.map((message) => messageKey(message.turnId, message.role));
    const signature = JSON.stringify(keys);
    const variant = variants.get(signature) ?? { length: keys.length, workers: [] };
    variant.workers.push(view.worker);
    variants.set(signature, variant);
  }
  if (variants.size <= 1) return [];

  const described = [...variants.values()]
    .map((v) => `${v.workers.join(" and ")} returned ${v.length} ${plural(v.length, "message")}`)
    .join("; ");
  return [
    {
      kind: "divergent",
      conversationId: ctx.conversationId,
      detail: `the ${ctx.okReads.length} successful final reads disagree: ${described}`,
    },
  ];
}

// ---------------------------------------------------------------------------
// Totals and verdict
// ---------------------------------------------------------------------------

function sumTotals(run: RunRecord, conversations: ConversationCheck[]): CheckTotals {
  const sum = (pick: (c: ConversationCheck) => number) =>
    conversations.reduce((total, conversation) => total + pick(conversation), 0);
  const withAcknowledged = conversations.filter((c) => c.acknowledged > 0);
  const meanWorkers =
    withAcknowledged.length === 0
      ? 0
      : withAcknowledged.reduce((total, c) => total + c.distinctWorkers, 0) /
        withAcknowledged.length;

  return {
    conversations: conversations.length,
    conversationsAffected: conversations.filter((c) => c.anomalies.length > 0).length,
    turnsSent: sum((c) => c.turnsSent),
    acknowledged: sum((c) => c.acknowledged),
    failed: sum((c) => c.failed),
    unknownOutcome: sum((c) => c.unknownOutcome),
    workersServingTurns: distinctWorkers(run.turns.filter((turn) => turn.outcome === "ok")).size,
    meanWorkersPerConversation: Math.round(meanWorkers * 100) / 100,
    finalReads: sum((c) => c.finalReads),
    finalReadsOk: sum((c) => c.finalReadsOk),
    lost: sum((c) => c.lost),
    stale: sum((c) => c.stale),
    duplicated: sum((c) => c.duplicated),
    outOfOrder: sum((c) => c.outOfOrder),
    interleaved: sum((c) => c.interleaved),
    staleContext: sum((c) => c.staleContext),
    unexpected: sum((c) => c.unexpected),
    divergent: sum((c) => c.divergent),
  };
}

/** Anomalies make a run invalid; a clean run only passes if it could have caught the bug. */
function decideVerdict(
  run: RunRecord,
  conversations: ConversationCheck[],
  totals: CheckTotals,
): { verdict: Verdict; reasons: string[] } {
  const invalid = (Object.keys(INVALID_REASONS) as (keyof AnomalyCounts)[])
    .filter((field) => totals[field] > 0)
    .map((field) => INVALID_REASONS[field](totals[field]));
  if (invalid.length > 0) return { verdict: "invalid", reasons: invalid };

  const unknown = inconclusiveReasons(run, conversations, totals);
  if (unknown.length > 0) return { verdict: "unknown", reasons: unknown };
  return { verdict: "valid", reasons: [] };
}

/** Why a run without anomalies still proves nothing; empty when it proves something. */
function inconclusiveReasons(
  run: RunRecord,
  conversations: ConversationCheck[],
  totals: CheckTotals,
): string[] {
  const reasons: string[] = [];
  if (totals.acknowledged === 0) {
    reasons.push("no turn was acknowledged, so there was no history the service had to keep");
  }
  if (totals.finalReadsOk === 0) {
    reasons.push("no final read succeeded, so no history could be checked");
  }
  // With nothing acknowledged, the worker count says nothing more.
  if (totals.acknowledged > 0 && run.workersExpected > 1 && totals.workersServingTurns < 2) {
    reasons.push(
      `the app ran ${run.workersExpected} workers but acknowledged turns were served by only ${totals.workersServingTurns}, so no conversation crossed workers and the test did not exercise the bug`,
    );
  }
  // Already covered above when no read succeeded at all.
  const unchecked = conversations.filter((c) => c.acknowledged > 0 && c.finalReadsOk === 0);
  if (totals.finalReadsOk > 0 && unchecked.length > 0) {
    reasons.push(
      `${unchecked.length} ${plural(unchecked.length, "conversation")} with acknowledged turns had no successful final read, so their turns could not be checked`,
    );
  }
  return reasons;
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

function anomaly(
  ctx: ConversationContext,
  kind: AnomalyKind,
  turn: TurnRecord,
  detail: string,
): Anomaly {
  return { kind, conversationId: ctx.conversationId, turnId: turn.turnId, detail };
}

function countAnomalies(anomalies: Anomaly[]): AnomalyCounts {
  const counts = noAnomalies();
  for (const { kind } of anomalies) counts[COUNT_OF[kind]] += 1;
  return counts;
}

/** Distinct worker processes (hostname + pid) that answered the given turns. */
function distinctWorkers(turns: TurnRecord[]): Set<string> {
  const workers = new Set<string>();
  for (const { servedBy } of turns) {
    if (servedBy !== undefined) workers.add(`${servedBy.hostname}:${servedBy.pid}`);
  }
  return workers;
}

function messageKey(turnId: string, role: Role): string {
  return `${turnId}/${role}`;
}

function turnLabel(turn: TurnRecord): string {
  return `turn ${turn.index + 1} (${turn.turnId})`;
}

function describeWorker(servedBy: ServedBy | undefined): string {
  return servedBy === undefined
    ? "an unidentified worker"
    : `worker ${servedBy.workerId} (pid ${servedBy.pid})`;
}

function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`;
}

function groupBy<T>(items: T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

/** Code-unit order: stable across locales, unlike localeCompare. */
function compareStrings(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}
