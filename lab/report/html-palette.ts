/**
 * Worker colours for the HTML report: a strong colour (bars, borders, badge text) and a light
 * one (badge background), each pair readable at WCAG AA. Same order as web/style.css.
 */
const WORKER_COLOURS = [
  { strong: "#0e7490", light: "#dff3f7" },
  { strong: "#1d4ed8", light: "#e0e8fd" },
  { strong: "#a21caf", light: "#f7e1fa" },
  { strong: "#9a4a08", light: "#fcecd6" },
  { strong: "#047857", light: "#dcf5ea" },
  { strong: "#be123c", light: "#fde2e8" },
] as const;

export function workerColour(workerId: number): { strong: string; light: string } {
  const n = WORKER_COLOURS.length;
  return WORKER_COLOURS[((workerId % n) + n) % n] ?? WORKER_COLOURS[0];
}

export const LOST_COLOUR = "#b91c1c";
export const STALE_COLOUR = "#c2410c";
