/** The report's whole stylesheet, inlined so the file opens offline (trusted: not escaped). Colours meet WCAG AA. */
export const REPORT_CSS = `
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; background: #f6f6f4; line-height: 1.45; }
body { margin: 0 auto; max-width: 90rem; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.5rem; margin: 0.25rem 0; }
h2 { font-size: 1.25rem; margin: 0 0 0.5rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 0.4rem; }
.muted, .run { color: #4a4a4a; }
section.card { background: #fff; border: 1px solid #c9c9c4; border-radius: 0.5rem; padding: 0.75rem 1rem; margin-top: 1rem; }
.apps { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(34rem, 100%), 1fr)); gap: 1rem; }
.apps > section { min-width: 0; }
table { border-collapse: collapse; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #e2e2dd; text-align: left; vertical-align: top; }
th[scope="row"] { font-weight: 500; color: #333; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.summary td { text-align: right; font-variant-numeric: tabular-nums; }
.bad { color: #8b1a12; font-weight: 600; }
.good { color: #14532d; }
.verdict { font-weight: 800; letter-spacing: 0.03em; padding: 0.05rem 0.5rem; border-radius: 0.3rem; }
.verdict.valid { background: #e1f3e6; color: #14532d; }
.verdict.invalid { background: #fde4e2; color: #8b1a12; }
.verdict.unknown { background: #fdf2d0; color: #6b4a00; }
.reasons { margin: 0.25rem 0 0; padding-left: 1.2rem; }
.chart-rows { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; }
.chart svg { display: block; max-width: 100%; height: auto; }
.chart .grid { stroke: #e2e2dd; }
.chart .tick, .chart .value { font-size: 11px; fill: #333; }
.legend { display: flex; flex-wrap: wrap; gap: 0.1rem 1rem; margin: 0.25rem 0; font-size: 0.9rem; }
.swatch { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 2px; margin-right: 0.3rem; vertical-align: -0.1rem; }
.badge { display: inline-block; padding: 0 0.45rem; border: 2px solid; border-radius: 999px; font-weight: 700; font-size: 0.85rem; white-space: nowrap; }
.table-box { overflow-x: auto; max-width: 100%; }
table.transcript { width: 100%; }
table.transcript :is(th, td) { padding: 0.3rem 0.4rem; }
/* The short columns shrink to their content (1% of the width), the reply takes the rest;
   their two-word headers may wrap, their values never. */
table.transcript th { font-size: 0.85rem; vertical-align: bottom; }
table.transcript :is(th, td):not(:last-child) { width: 1%; }
table.transcript td:not(:last-child) { white-space: nowrap; }
table.transcript :is(th, td):last-child { min-width: 15rem; }
table.transcript .flag { display: block; width: max-content; margin-left: auto; font-size: 0.85rem; }
table.transcript caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
tr.forgot { background: #fff6f5; }
.flag { display: inline-block; background: #fde4e2; color: #8b1a12; border-radius: 0.3rem; padding: 0 0.3rem; }
.said { font-weight: 600; }
.said::before { content: "user: "; font-weight: 400; color: #4a4a4a; }
.reply::before { content: "agent: "; color: #4a4a4a; }
ul.reads { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; list-style: none; padding: 0; margin: 0.25rem 0; }
details { margin-top: 0.4rem; }
code { font-size: 0.92em; }
@media (max-width: 30rem) {
  body { padding: 0.5rem 0.5rem 2rem; }
  section.card { padding: 0.6rem 0.6rem; }
}
`;
