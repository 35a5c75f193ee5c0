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
  /** What the group stands for (a conversation id, a worker), set as `data-<kind>` on it. */
  key: string;
  bars: Bar[];
}

export interface BarChartOptions {
  /** Read by screen readers; the numbers table under the chart says the same in full. */
  description: string;
  /** What each group is: its `data-` attribute, which lets a test or a script find it. */
  groupKind: "conversation" | "worker";
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
/**
 * Widest row of bars, in SVG units (= CSS px at full size): it fits a 360 px screen, so labels
 * never shrink below legible. More groups wrap into further rows, which sit side by side when
 * the page is wide.
 */
const MAX_ROW_WIDTH = 330;

/** Sizes shared by every row of one chart, so all rows draw to the same scale. */
interface Layout {
  bar: number;
  per: number;
  groupWidth: number;
  rowWidth: number;
  groupsPerRow: number;
  y: (value: number) => number;
  ticks: number[];
}

/**
 * An inline SVG bar chart, grouped bars, no script and no external resource: one SVG per row
 * of groups, each scaling down with its box (viewBox, max-width 100%), none ever clipped.
 */
export function barChart(options: BarChartOptions): SafeHtml {
  const layout = layoutOf(options);
  const rows = rowsOf(options.groups, layout.groupsPerRow).map((row) =>
    rowSvg(row, layout, options),
  );
  const legend = (options.legend ?? []).map(
    (item) =>
      html`<span class="legend-item"><span class="swatch" style="background:${item.colour}"></span>${item.label}</span>`,
  );
  return html`<div class="chart"><div class="chart-rows" role="img" aria-label="${options.description}">${rows}</div>${
    legend.length ? html`<p class="legend">${legend}</p>` : ""
  }</div>`;
}

function layoutOf({ groups, showValues }: BarChartOptions): Layout {
  const per = Math.max(1, ...groups.map((g) => g.bars.length));
  // Few bars with values and "worker N" labels under them need room for the text.
  const bar = showValues ? BAR * 5 : BAR;
  const groupWidth = per * bar + GAP;
  const fitting = Math.max(1, Math.floor((MAX_ROW_WIDTH - LEFT - GAP) / groupWidth));
  const groupsPerRow = balancedRowLength(groups.length, fitting);
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.value)));
  const plot = HEIGHT - TOP - BOTTOM;
  const y = (value: number) => TOP + plot - (plot * value) / max;
  const ticks = [0, Math.round(max / 2), max].filter((v, i, all) => all.indexOf(v) === i);
  return {
    bar,
    per,
    groupWidth,
    rowWidth: LEFT + groupsPerRow * groupWidth + GAP,
    groupsPerRow,
    y,
    ticks,
  };
}

/** Rows as even as can be (24 by at most 10: 8, 8, 8, not 10, 10, 4). */
function balancedRowLength(groups: number, fitting: number): number {
  const rows = Math.max(1, Math.ceil(groups / fitting));
  return Math.max(1, Math.ceil(groups / rows));
}

function rowsOf<T>(items: T[], size: number): T[][] {
  const rows: T[][] = [];
  for (let i = 0; i < items.length; i += size) rows.push(items.slice(i, i + size));
  return rows;
}

function rowSvg(row: BarGroup[], layout: Layout, options: BarChartOptions): SafeHtml {
  const { rowWidth, y, ticks } = layout;
  const axis = ticks.map(
    (t) => html`<line x1="${LEFT}" x2="${rowWidth}" y1="${y(t)}" y2="${y(t)}" class="grid"/>
<text x="${LEFT - 6}" y="${y(t) + 4}" text-anchor="end" class="tick">${t}</text>`,
  );
  const groups = row.map((group, g) =>
    groupSvg(group, LEFT + GAP + g * layout.groupWidth, layout, options),
  );
  // The size attributes are the full size; CSS lets it shrink with its box, keeping its shape.
  return html`<svg viewBox="0 0 ${rowWidth} ${HEIGHT}" width="${rowWidth}" height="${HEIGHT}">${axis}${groups}</svg>`;
}

function groupSvg(group: BarGroup, x0: number, layout: Layout, options: BarChartOptions): SafeHtml {
  const { bar, per, y } = layout;
  const base = y(0);
  const rects = group.bars.map((b, i) => {
    const x = x0 + i * bar;
    const top = y(b.value);
    return html`<rect x="${x}" y="${top}" width="${bar - 2}" height="${base - top}" fill="${b.colour}"><title>${b.label}</title></rect>${
      options.showValues
        ? html`<text x="${x + (bar - 2) / 2}" y="${top - 4}" text-anchor="middle" class="value">${b.value}</text>`
        : ""
    }`;
  });
  const mid = x0 + (per * bar) / 2;
  return html`<g data-${options.groupKind}="${group.key}">${rects}<text x="${mid}" y="${HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">${group.label}</text></g>`;
}
