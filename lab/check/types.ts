/** `unknown` means the run could not prove anything; it is never reported as a pass. */
export type Verdict = "valid" | "invalid" | "unknown";

export type AnomalyKind =
  | "lost"
  | "stale"
  | "duplicated"
  | "out-of-order"
  | "interleaved"
  | "stale-context"
  | "unexpected"
  | "divergent"
  | "over-limit"
  | "stream-gap"
  | "stream-duplicate"
  | "stream-mismatch";

export interface Anomaly {
  kind: AnomalyKind;
  conversationId: string;
  /** The turn concerned, when there is one. */
  turnId?: string;
  /** One sentence a person can read. */
  detail: string;
}

export interface AnomalyCounts {
  /** Acknowledged turns missing from at least one successful final read. */
  lost: number;
  /** Acknowledged turns whose reply was generated from less history than was acknowledged before it was sent. */
  stale: number;
  /** Turns whose message appears more than once in a final read. */
  duplicated: number;
  /** Turns stored in an order that contradicts the order the client saw them acknowledged. */
  outOfOrder: number;
  /**
   * Turns whose user message is not directly followed by its own assistant message (or whose
   * reply is not directly preceded by its question) in a successful final read: another turn's
   * message sits between them. A reply stored before its question is `outOfOrder` only.
   */
  interleaved: number;
  /**
   * Acknowledged turns whose `messagesSeen` is below the number of messages stored before their
   * user message in a successful final read (plus their own): the reply was generated without
   * some of the history it is stored after, as when overlapping turns read the same history.
   * Unlike `stale`, this compares with the final stored order, not with what was acknowledged.
   */
  staleContext: number;
  /** Messages no client sent, or from a turn the server rejected. */
  unexpected: number;
  /** Conversations whose successful final reads disagree with each other. */
  divergent: number;
  /** Acknowledged turns beyond what the user's turn limit allows over the run. */
  overLimit: number;
  /**
   * Streamed turns whose events the client did not get whole: an id skipped, or a stream
   * that ended (or whose resume was refused) before its done or error event.
   */
  streamGap: number;
  /** Streamed turns of which the client got an event id twice. */
  streamDuplicate: number;
  /**
   * Streamed turns whose deltas, joined, are not done's reply, or whose done reply is not the
   * assistant message stored for the turn.
   */
  streamMismatch: number;
}

export interface ConversationCheck extends AnomalyCounts {
  conversationId: string;
  turnsSent: number;
  acknowledged: number;
  failed: number;
  unknownOutcome: number;
  /** Distinct workers (hostname + pid) that answered this conversation's acknowledged turns. */
  distinctWorkers: number;
  finalReads: number;
  finalReadsOk: number;
  anomalies: Anomaly[];
}

export interface CheckTotals extends AnomalyCounts, StreamTotals {
  conversations: number;
  /** Conversations with at least one anomaly. */
  conversationsAffected: number;
  turnsSent: number;
  acknowledged: number;
  failed: number;
  unknownOutcome: number;
  /** Distinct workers that answered at least one acknowledged turn, over the whole run. */
  workersServingTurns: number;
  meanWorkersPerConversation: number;
  finalReads: number;
  finalReadsOk: number;
}

/** A run's streamed turns (all zero when it did not stream). */
export interface StreamTotals {
  /** Turns with at least one attempt answered as a stream. */
  streamedTurns: number;
  /** Streams the client dropped on purpose (--disconnect-rate). */
  streamsDropped: number;
  /** Resumes sent (GET .../stream with Last-Event-ID). */
  resumes: number;
  /** Resumes answered by another worker than the one producing the turn. */
  resumesCrossedWorkers: number;
}

export interface CheckResult {
  verdict: Verdict;
  /** Why the verdict is `invalid` or `unknown`, in plain words. */
  reasons: string[];
  totals: CheckTotals;
  conversations: ConversationCheck[];
  anomalies: Anomaly[];
}
