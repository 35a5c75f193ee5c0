import type { AttemptAnswerLog } from "./records.ts";
import type { SchedulerOptions } from "./scheduler.ts";
import type { DisconnectOptions } from "./stream-drops.ts";
import type { StreamWatch } from "./stream-turn.ts";

export interface LoadOptions {
  /** Base URL of the app, e.g. http://127.0.0.1:3001 */
  url: string;
  /**
   * Several hosts (replicas) of the same app: connections are spread over them, and each
   * conversation's turns hop across all of them, as behind a load balancer. Default: [url].
   */
  hosts?: string[];
  /** Bearer token the load test authenticates with. */
  token: string;
  conversations: number;
  turns: number;
  connections: number;
  /** Worker processes behind `url` (all hosts together); decides how many reads each history gets. */
  workers: number;
  sticky: boolean;
  /** Up to this many turns of one conversation in flight at once (1 = sequential). */
  overlap: number;
  /** Share of turns re-sent with the same turnId, as if the first answer was lost. */
  retryRate: number;
  /** Seed of the retry choices (random when absent; recorded in the result). */
  seed?: number;
  /** Seconds to wait for one answer before counting the turn's outcome unknown. */
  timeoutSeconds: number;
  /** Hard cap on the whole run, in seconds. */
  maxSeconds: number;
  /** Read every history back after the load (needed by the checker; benchmarks skip it). */
  readBack?: boolean;
  /**
   * Wait this long after the last answer before reading the histories back, for an app whose
   * store applies writes late (unawaited-write): the reads then show what was stored, not
   * which writes were still on their way. Default 0.
   */
  readAfterMs?: number;
  /**
   * The app's per-user turn limit (RATE_LIMIT_TURNS_PER_MINUTE): the checker then counts every
   * turn acknowledged beyond it (the load test plays one user). Unset: not checked.
   */
  turnLimitPerMinute?: number;
  /** Show a progress bar of turns answered (on a terminal). */
  progress: boolean;
  /** Resend definite refusals (503 store_unavailable, 409 busy) later: see SchedulerOptions. */
  resendRefused?: SchedulerOptions["resendRefused"];
  /**
   * Ask for every turn as a stream of server-sent events (`Accept: text/event-stream`), sent
   * over node:http instead of autocannon (see StreamConnections).
   */
  stream?: boolean;
  /** With `stream`: turns the client drops mid-stream, then resumes on another worker. */
  disconnect?: DisconnectOptions;
  /** Called after every answer to a turn attempt (lab/chaos uses it to time its faults). */
  onAnswer?: (answer: AttemptAnswerLog) => void;
  /** With `stream`: told how each attempt goes (lab/chaos finds a worker mid-reply with it). */
  streamWatch?: StreamWatch;
}
