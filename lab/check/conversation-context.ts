import type { Role } from "../../service/contract.ts";
import type { FinalRead, RunRecord, TurnRecord } from "../load/records.ts";
import type { Anomaly, AnomalyKind } from "./types.ts";
import { describeWorker } from "./wording.ts";

/** The two messages every turn stores, in the order it stores them. */
export const ROLES: readonly Role[] = ["user", "assistant"];

/** A successful final read, indexed by `${turnId}/${role}` so checks can ask "where is it?". */
export interface ReadView {
  read: FinalRead;
  /** Who served it, already phrased for a detail sentence. */
  worker: string;
  /** Position of the first occurrence of each message key. */
  firstAt: Map<string, number>;
  /** How many times each message key occurs. */
  occurrences: Map<string, number>;
}

/** What every detector of one conversation looks at. */
export interface ConversationContext {
  conversationId: string;
  /** All turn records of the conversation, by script position. */
  turns: TurnRecord[];
  /** The same turns by turnId, to name the turn a stored message belongs to. */
  turnsById: Map<string, TurnRecord>;
  /** Only the acknowledged turns: the ones the service promised to keep. */
  okTurns: TurnRecord[];
  /** Only successful reads: a failed read proves nothing about the history. */
  okReads: ReadView[];
}

/** One check of a conversation: its anomalies of one or two kinds. */
export type Detector = (ctx: ConversationContext) => Anomaly[];

/** A run's records of one conversation, as sent and read. */
export interface ConversationRecords {
  conversationId: string;
  turns: TurnRecord[];
  reads: FinalRead[];
}

/** Splits a run per conversation, ids in code-unit order so reports are stable. */
export function splitByConversation(run: RunRecord): ConversationRecords[] {
  const turnsById = groupBy(run.turns, (turn) => turn.conversationId);
  const readsById = groupBy(run.reads, (read) => read.conversationId);
  const ids = [...new Set([...turnsById.keys(), ...readsById.keys()])].sort(compareStrings);
  return ids.map((conversationId) => ({
    conversationId,
    turns: turnsById.get(conversationId) ?? [],
    reads: readsById.get(conversationId) ?? [],
  }));
}

export function contextOf(
  conversationId: string,
  turnRecords: TurnRecord[],
  reads: FinalRead[],
): ConversationContext {
  // Records arrive in completion order; detectors reason in script order.
  const turns = [...turnRecords].sort((a, b) => a.index - b.index);
  return {
    conversationId,
    turns,
    turnsById: new Map(turns.map((turn) => [turn.turnId, turn])),
    okTurns: turns.filter((turn) => turn.outcome === "ok"),
    okReads: reads.filter((read) => read.ok).map(viewRead),
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

/** The key a message is indexed by in a ReadView: a turn stores one message per role. */
export function messageKey(turnId: string, role: Role): string {
  return `${turnId}/${role}`;
}

/** An anomaly about one turn of the conversation. */
export function turnAnomaly(
  ctx: ConversationContext,
  kind: AnomalyKind,
  turn: TurnRecord,
  detail: string,
): Anomaly {
  return { kind, conversationId: ctx.conversationId, turnId: turn.turnId, detail };
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
