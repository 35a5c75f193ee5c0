import { html, type SafeHtml } from "./html-escape.ts";

export interface Bar {
  value: number;
  colour: string;
  /** Shown as the bar's tooltip and in the numbers table. */
  label: string;
}

export interface BarGroup {
  /** Short label under the group (e.g. "3" or "worker 2"). */
  label: string;
  bars: Bar[];
}

export interface BarChartOptions {
  /** Read by screen readers; the numbers table under the chart says the same in full. */
  description: string;
  groups: BarGroup[];
  legend?: { label: string; colour: string }[];
  /** Print each bar's value above it (for few bars). */
  showValues?: boolean;
}

const HEIGHT = 180;
const TOP = 18;
const BOTTOM = 34;
const LEFT = 36;
const BAR = 12;
const GAP = 10;

/** An inline SVG bar chart, grouped bars, no script and no external resource. */
export function barChart(options: BarChartOptions): SafeHtml {
  const { groups } = options;
  const per = Math.max(1, ...groups.map((g) => g.bars.length));
  // Few bars with values and "worker N" labels under them need room for the text.
  const bar = options.showValues ? BAR * 5 : BAR;
  const groupWidth = per * bar + GAP;
  const width = LEFT + groups.length * groupWidth + GAP;
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.value)));
  const plot = HEIGHT - TOP - BOTTOM;
  const y = (value: number) => TOP + plot - (plot * value) / max;
  const ticks = [0, Math.round(max / 2), max].filter((v, i, all) => all.indexOf(v) === i);

  const axis = ticks.map(
    (t) => html`<line x1="${LEFT}" x2="${width}" y1="${y(t)}" y2="${y(t)}" class="grid"/>
<text x="${LEFT - 6}" y="${y(t) + 4}" text-anchor="end" class="tick">${t}</text>`,
  );
  const bars = groups.map((group, g) => {
    const x0 = LEFT + GAP + g * groupWidth;
    const rects = group.bars.map((b, i) => {
      const x = x0 + i * bar;
      const top = y(b.value);
      return html`<rect x="${x}" y="${top}" width="${bar - 2}" height="${TOP + plot - top}" fill="${b.colour}"><title>${b.label}</title></rect>${
        options.showValues
          ? html`<text x="${x + (bar - 2) / 2}" y="${top - 4}" text-anchor="middle" class="value">${b.value}</text>`
          : ""
      }`;
    });
    const mid = x0 + (per * bar) / 2;
    return html`${rects}<text x="${mid}" y="${HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">${group.label}</text>`;
  });
  const legend = (options.legend ?? []).map(
    (item) =>
      html`<span class="legend-item"><span class="swatch" style="background:${item.colour}"></span>${item.label}</span>`,
  );
  return html`<div class="chart"><svg role="img" aria-label="${options.description}" viewBox="0 0 ${width} ${HEIGHT}" width="${width}" height="${HEIGHT}">${axis}${bars}</svg>${
    legend.length ? html`<p class="legend">${legend}</p>` : ""
  }</div>`;
}
