import type { ServedBy } from "../../service/contract.ts";
import { acknowledgedBefore, messagesBasedOn } from "../check/based-on.ts";
import type { TurnRecord } from "../load/records.ts";
import type { LoadResult } from "../load/run-load.ts";

export interface TranscriptRow {
  turn: TurnRecord;
  /** The worker that served it, or (a streamed turn never acknowledged) produced its stream. */
  worker?: ServedBy;
  /** Messages the agent should have been based on: 2 per turn acknowledged before, plus its own. */
  expected: number;
  /** Messages the agent was given (at most its context window). */
  seen?: number;
  /** The turn was based on less than `expected` (judged by historyLength when the app reports it). */
  forgot: boolean;
  /** The reply, or what happened instead. */
  reply: string;
}

export interface TranscriptModel {
  rows: TranscriptRow[];
  /** Per worker that read the conversation back: how many messages it returned. */
  reads: { servedBy?: ServedBy; count: number }[];
  /** Messages the conversation should hold: 2 per acknowledged turn. */
  acknowledgedMessages: number;
}

/**
 * What the client got instead of an acknowledged reply: the outcome, and for a streamed turn
 * the text that did arrive and where its stream stopped.
 */
function replyNotAcknowledged(turn: TurnRecord): string {
  const stream = turn.streams?.at(-1);
  const outcome = `(${turn.outcome}, status ${turn.status ?? "none"})`;
  if (!stream) return outcome;
  const events = [...stream.events, ...stream.resumes.flatMap((r) => r.events)];
  const text = events.map((e) => e.text ?? "").join("");
  const resume = stream.resumes.at(-1);
  const stopped = stream.error
    ? `error event ${stream.error.code ?? ""}`.trim()
    : resume
      ? `resume answered ${resume.status ?? "nothing"}${resume.code ? ` ${resume.code}` : ""}`
      : `stream ${stream.cut ?? "ended"}`;
  // "...", not "…": `npm run demo` prints through concurrently, which turns "…" into "...",
  // and the table's border would then be two characters off.
  return `${text}... ${outcome.slice(0, -1)}: ${stopped})`;
}

/** One conversation, turn by turn, as both the terminal and the HTML reports show it. */
export function transcriptModel(load: LoadResult, conversationId: string): TranscriptModel {
  const turns = load.turns
    .filter((t) => t.conversationId === conversationId)
    .sort((a, b) => a.index - b.index);
  const rows = turns.map((turn) => {
    const expected = 2 * acknowledgedBefore(turns, turn) + 1;
    const basedOn = messagesBasedOn(turn);
    return {
      turn,
      worker: turn.servedBy ?? turn.streams?.at(-1)?.producer,
      expected,
      seen: turn.messagesSeen,
      forgot: basedOn !== undefined && basedOn < expected,
      reply: turn.outcome === "ok" ? (turn.reply ?? "") : replyNotAcknowledged(turn),
    };
  });
  // The last read of each worker (hosts told apart), in host then worker order.
  const byWorker = new Map<string, { servedBy?: ServedBy; count: number }>();
  for (const read of load.reads) {
    if (read.conversationId !== conversationId || !read.ok) continue;
    const key = `${read.servedBy?.hostname}:${String(read.servedBy?.workerId).padStart(3, "0")}`;
    byWorker.set(key, { servedBy: read.servedBy, count: read.messages.length });
  }
  const reads = [...byWorker.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, r]) => r);
  const acknowledgedMessages = 2 * turns.filter((t) => t.outcome === "ok").length;
  return { rows, reads, acknowledgedMessages };
}
