import type { LoadResult } from "../load/run-load.ts";
import { html, type SafeHtml } from "./html-escape.ts";
import { workerColour } from "./html-palette.ts";
import { tableBox } from "./html-table.ts";
import { transcriptModel } from "./transcript-model.ts";
import { type WorkerRef, workerColourIndex, workerLongName } from "./worker-name.ts";

/** "worker 3" on the worker's colour: the text says it too, colour is never the only cue. */
export function workerBadge(worker: WorkerRef | undefined): SafeHtml {
  if (worker === undefined) return html`<span class="muted">none</span>`;
  const { strong, light } = workerColour(workerColourIndex(worker));
  return html`<span class="badge" style="color:${strong};background:${light};border-color:${strong}">${workerLongName(worker)}</span>`;
}

/**
 * One conversation turn by turn, as the terminal transcript: the worker that served it, how
 * many messages the agent saw against how many it should have (every turn acknowledged
 * before this one was sent, two messages each, plus this one), and the reply.
 */
export function transcriptHtml(load: LoadResult, conversationId: string): SafeHtml {
  const model = transcriptModel(load, conversationId);
  const rows = model.rows.map(({ turn, worker, expected, seen, forgot, reply }) => {
    const colour = worker ? workerColour(workerColourIndex(worker)).strong : "#c9c9c4";
    const seenCell =
      seen === undefined
        ? html`<td class="num">-</td>`
        : forgot
          ? html`<td class="num bad">${seen} <span class="flag">✗ forgot ${expected - seen}</span></td>`
          : html`<td class="num good">${seen} ✓</td>`;
    return html`<tr class="${forgot ? "forgot" : ""}" style="border-left:6px solid ${colour}">
<td>#${turn.index + 1}</td><td>${workerBadge(worker)}</td>${seenCell}<td class="num">${expected}</td>
<td><div class="said">${turn.text}</div><div class="reply">${reply}</div></td></tr>`;
  });
  const reads = model.reads.map(
    ({ servedBy, count }) =>
      html`<li>${workerBadge(servedBy ?? { workerId: 0 })} has ${count}</li>`,
  );
  return html`${tableBox(html`<table class="transcript">
<caption>Conversation <code>${conversationId}</code>, turn by turn</caption>
<thead><tr><th scope="col">turn</th><th scope="col">worker</th><th scope="col">agent saw</th><th scope="col">should see</th><th scope="col">user said / agent replied</th></tr></thead>
<tbody>${rows}</tbody></table>`)}
<p>Final reads of this conversation (of ${model.acknowledgedMessages} messages acknowledged):</p>
${reads.length ? html`<ul class="reads">${reads}</ul>` : html`<p class="muted">none</p>`}`;
}
