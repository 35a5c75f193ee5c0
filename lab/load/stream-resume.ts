import type { StreamResume, WorkerHeaders } from "./records.ts";
import { requestEvents, type SseAnswer } from "./sse-request.ts";

/** Where a cut stream is resumed from, and the worker it must avoid. */
export interface ResumeTarget {
  /** Every host of the app; the resume starts with the producer's and goes round them. */
  hosts: readonly string[];
  producerHost: string;
  producer: WorkerHeaders | undefined;
  /** `/conversations/:id/turns/:turnId/stream` */
  path: string;
  token: string;
  /** The id of the last event received. */
  lastEventId: number;
  /** Fresh connections tried before one on the producer is accepted after all. */
  maxAttempts: number;
  timeoutMs: number;
  signal: AbortSignal;
}

/**
 * A resume is answered at once (its headers come before any event): a fresh connection with no
 * answer by then most likely went to a worker that is gone (node:cluster's primary can hand a
 * new connection to a worker killed a moment before), and asking again cannot hurt: it is a GET.
 */
const RESUME_ANSWER_MS = 2000;

/**
 * Resumes a cut stream with `Last-Event-ID` on a fresh connection that reaches another worker
 * than the producer: each attempt looks at the answer's `X-Worker-Pid` and, on the producer,
 * aborts and opens another fresh connection (the cluster primary hands each to the next
 * worker). An attempt that gets no answer (lost, or none within RESUME_ANSWER_MS) is tried
 * again on another fresh connection too. The last of `maxAttempts` is kept wherever it lands
 * (one worker: the only one), recorded as not crossing workers.
 */
export async function resumeElsewhere(
  target: ResumeTarget,
): Promise<{ resume: StreamResume; answer: SseAnswer }> {
  const start = Math.max(0, target.hosts.indexOf(target.producerHost));
  const tries = { landedOnProducer: 0, unanswered: 0 };
  for (let attempt = 0; ; attempt++) {
    const host = target.hosts[(start + attempt) % target.hosts.length] ?? target.producerHost;
    const onProducer = (worker: WorkerHeaders | undefined) =>
      host === target.producerHost && worker?.pid === target.producer?.pid;
    const last = attempt >= target.maxAttempts - 1;
    const answer = await requestEvents({
      url: `${host}${target.path}`,
      method: "GET",
      headers: resumeHeaders(target),
      agent: false,
      timeoutMs: target.timeoutMs,
      answerTimeoutMs: last ? undefined : Math.min(RESUME_ANSWER_MS, target.timeoutMs),
      signal: target.signal,
      accept: (worker) => last || !onProducer(worker),
    });
    if (answer.declined) {
      tries.landedOnProducer++;
      continue;
    }
    if (!last && answer.status === undefined && !target.signal.aborted) {
      tries.unanswered++;
      continue;
    }
    return { resume: resumeRecord(target, answer, tries, onProducer), answer };
  }
}

function resumeHeaders(target: ResumeTarget): Record<string, string> {
  return {
    authorization: `Bearer ${target.token}`,
    accept: "text/event-stream",
    "last-event-id": String(target.lastEventId),
    connection: "close",
  };
}

function resumeRecord(
  target: ResumeTarget,
  answer: SseAnswer,
  { landedOnProducer, unanswered }: { landedOnProducer: number; unanswered: number },
  onProducer: (worker: WorkerHeaders | undefined) => boolean,
): StreamResume {
  const resume: StreamResume = {
    lastEventId: target.lastEventId,
    landedOnProducer,
    status: answer.status,
    worker: answer.worker,
    crossedWorkers: answer.worker !== undefined && !onProducer(answer.worker),
    events: answer.events,
  };
  if (unanswered > 0) resume.unanswered = unanswered;
  const code = errorCode(answer.body);
  if (code) resume.code = code;
  if (answer.cut) resume.cut = answer.cut;
  return resume;
}

function errorCode(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
