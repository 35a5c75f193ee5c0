import { html, type SafeHtml } from "./html-escape.ts";

/** A box the table scrolls sideways in when the screen is too narrow, so the page never does. */
export function tableBox(table: SafeHtml): SafeHtml {
  return html`<div class="table-box">${table}</div>`;
}
