import type { LoadResult } from "../load/run-load.ts";
import { html, type SafeHtml } from "./html-escape.ts";
import { workerColour } from "./html-palette.ts";

/** "worker 3" on the worker's colour: the text says it too, colour is never the only cue. */
export function workerBadge(workerId: number | undefined): SafeHtml {
  if (workerId === undefined) return html`<span class="muted">none</span>`;
  const { strong, light } = workerColour(workerId);
  return html`<span class="badge" style="color:${strong};background:${light};border-color:${strong}">worker ${workerId}</span>`;
}

/**
 * One conversation turn by turn, as the terminal transcript: the worker that served it, how
 * many messages the agent saw against how many it should have (every turn acknowledged
 * before this one was sent, two messages each, plus this one), and the reply.
 */
export function transcriptHtml(load: LoadResult, conversationId: string): SafeHtml {
  const turns = load.turns
    .filter((t) => t.conversationId === conversationId)
    .sort((a, b) => a.index - b.index);
  const acknowledgedBefore = (sentAt: number) =>
    turns.filter((t) => t.outcome === "ok" && (t.answeredAt ?? Infinity) <= sentAt).length;
  const rows = turns.map((turn) => {
    const expected = 2 * acknowledgedBefore(turn.sentAt) + 1;
    const seen = turn.messagesSeen;
    const forgot = seen !== undefined && seen < expected;
    const colour = turn.servedBy ? workerColour(turn.servedBy.workerId).strong : "#c9c9c4";
    const seenCell =
      seen === undefined
        ? html`<td class="num">-</td>`
        : forgot
          ? html`<td class="num bad">${seen} <span class="flag">✗ forgot ${expected - seen}</span></td>`
          : html`<td class="num good">${seen} ✓</td>`;
    const reply =
      turn.outcome === "ok"
        ? (turn.reply ?? "")
        : `(${turn.outcome}, status ${turn.status ?? "none"})`;
    return html`<tr class="${forgot ? "forgot" : ""}" style="border-left:6px solid ${colour}">
<td>#${turn.index + 1}</td><td>${workerBadge(turn.servedBy?.workerId)}</td>${seenCell}<td class="num">${expected}</td>
<td><div class="said">${turn.text}</div><div class="reply">${reply}</div></td></tr>`;
  });
  const perWorker = new Map<number, number>();
  for (const read of load.reads) {
    if (read.conversationId === conversationId && read.ok)
      perWorker.set(read.servedBy?.workerId ?? 0, read.messages.length);
  }
  const expectedMessages = 2 * turns.filter((t) => t.outcome === "ok").length;
  const reads = [...perWorker.entries()]
    .sort(([a], [b]) => a - b)
    .map(([worker, count]) => html`<li>${workerBadge(worker)} has ${count}</li>`);
  return html`<table class="transcript">
<caption>Conversation <code>${conversationId}</code>, turn by turn</caption>
<thead><tr><th scope="col">turn</th><th scope="col">worker</th><th scope="col">agent saw</th><th scope="col">should see</th><th scope="col">user said / agent replied</th></tr></thead>
<tbody>${rows}</tbody></table>
<p>Final reads of this conversation (of ${expectedMessages} messages acknowledged):</p>
${reads.length ? html`<ul class="reads">${reads}</ul>` : html`<p class="muted">none</p>`}`;
}
