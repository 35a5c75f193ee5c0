import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRun } from "../../../lab/check/checker.ts";
import type { TurnRecord } from "../../../lab/load/records.ts";
import type { LoadResult } from "../../../lab/load/run-load.ts";
import { turnText } from "../../../lab/load/script.ts";
import { writeHtmlReport } from "../../../lab/report/html.ts";
import { summarize } from "../../../lab/report/summary.ts";
import type { RunReport } from "../../../lab/report/write-json.ts";
import type { ChatMessage, ServedBy } from "../../../service/contract.ts";
import { launchChromium, SCREENSHOT_DIR } from "../learn/page/chromium.ts";

const CONVERSATIONS = 24;
const TURNS = 8;
const WORKERS = 4;
const WIDTHS = [360, 1280, 1920];
/** Smallest on-screen height of a chart label's box, in CSS px (11 px text at full size: 13). */
const READABLE_PX = 11;
/** The reply column's least width (15rem), and its least share of the transcript's width. */
const REPLY_MIN_PX = 240;
const REPLY_MIN_SHARE = 0.4;

type App = "broken" | "fixed";

const worker = (workerId: number): ServedBy => ({ workerId, pid: 1000 + workerId, hostname: "h" });

/** The scripted model's reply: it says how much of the conversation it was given. */
function scriptedReply(text: string, history: ChatMessage[]): string {
  const said = history.filter((m) => m.role === "user");
  if (said.length === 0) return `You said "${text}". I remember no earlier message from you.`;
  return `You said "${text}". I remember ${said.length} earlier message(s) from you; the first was "${said[0]?.content}".`;
}

/**
 * Who serves turn `index` of conversation `n`: every third conversation stays on one worker
 * (nothing goes wrong there), the others hop round robin, as a cluster without sticky sessions.
 */
const servingWorker = (n: number, index: number) =>
  n % 3 === 0 ? 1 + (n % WORKERS) : 1 + ((n + index) % WORKERS);

/**
 * One conversation as the broken app (one memory per worker) or the fixed one (one shared
 * store) answers it: its turn records and each store's history afterwards.
 */
function playConversation(app: App, runId: string, n: number) {
  const conversationId = `${runId}-c${n}`;
  const stores = new Map<number, ChatMessage[]>();
  const turns: TurnRecord[] = [];
  for (let index = 0; index < TURNS; index++) {
    const servedBy = worker(servingWorker(n, index));
    const key = app === "broken" ? servedBy.workerId : 0;
    const history = stores.get(key) ?? [];
    const text = turnText(n, index);
    const reply = scriptedReply(text, history);
    const turnId = `${conversationId}-t${index}`;
    const sentAt = 1_000 + n * 1_000 + index * 10;
    turns.push({
      conversationId,
      index,
      turnId,
      text,
      sentAt,
      answeredAt: sentAt + 5,
      outcome: "ok",
      status: 200,
      servedBy,
      messagesSeen: history.length + 1,
      historyLength: history.length,
      reply,
      latencyMs: 5,
      attempts: 1,
    });
    const at = new Date(sentAt).toISOString();
    history.push({ role: "user", content: text, turnId, servedBy, at });
    history.push({ role: "assistant", content: reply, turnId, servedBy, at });
    stores.set(key, history);
  }
  return { conversationId, turns, stores };
}

/** Each worker reads the conversation back from the store it sees. */
function finalReads(app: App, { conversationId, stores }: ReturnType<typeof playConversation>) {
  return Array.from({ length: WORKERS }, (_, i) => {
    const servedBy = worker(i + 1);
    const messages = stores.get(app === "broken" ? servedBy.workerId : 0) ?? [];
    return { conversationId, ok: true, status: 200, servedBy, messages };
  });
}

/** A 24 x 8 run of one app, built by hand: the broken one loses and forgets turns. */
function simulatedReport(app: App): RunReport {
  const runId = `run-${app}-0a1b2c3d`;
  const played = Array.from({ length: CONVERSATIONS }, (_, i) =>
    playConversation(app, runId, i + 1),
  );
  const load: LoadResult = {
    runId,
    seed: 7,
    options: {
      url: "http://127.0.0.1:1",
      conversations: CONVERSATIONS,
      turns: TURNS,
      connections: 8,
      workers: WORKERS,
      sticky: false,
      overlap: 1,
      retryRate: 0,
      timeoutSeconds: 10,
      maxSeconds: 60,
      progress: false,
    },
    durationMs: 1234,
    idleRequests: 0,
    timedOut: false,
    errorAnswers: [],
    workersExpected: WORKERS,
    turns: played.flatMap((p) => p.turns),
    reads: played.flatMap((p) => finalReads(app, p)),
  };
  const check = checkRun(load);
  return { summary: summarize(app, "memory", load, check), check, load };
}

interface Box {
  left: number;
  right: number;
  top: number;
  bottom: number;
  width: number;
  height: number;
}

interface ChartLayout {
  /** The chart's own box, and the box of the card it sits in. */
  box: Box;
  card: Box;
  scrollWidth: number;
  clientWidth: number;
  /** Every drawing of the chart (one per row when it wraps). */
  svgs: Box[];
  /** Each group of bars: which conversation or worker, and its box on screen. */
  groups: { conversation?: string; box: Box }[];
  /** On-screen height of the smallest label, in CSS pixels. */
  smallestLabelPx: number;
}

interface TableLayout {
  box: Box;
  /** The box the table may scroll in (its parent), and that box's overflow-x. */
  frame: Box;
  frameOverflowX: string;
  card: Box;
  /** Width of each column, the reply last. */
  columnWidths: number[];
  /** white-space of every value of the short columns (turn, worker, agent saw, should see). */
  shortCellsWhiteSpace: string[];
}

interface Layout {
  innerWidth: number;
  documentScrollWidth: number;
  sections: { charts: ChartLayout[]; transcript?: TableLayout }[];
}

/** Opens every <details> (the widest the page gets) and measures what the test judges. */
function measure(page: Page): Promise<Layout> {
  return page.evaluate(() => {
    for (const details of document.querySelectorAll("details")) details.open = true;
    const box = (el: Element): Box => {
      const { left, right, top, bottom, width, height } = el.getBoundingClientRect();
      return { left, right, top, bottom, width, height };
    };
    const cardOf = (el: Element) => box(el.closest("section.card") ?? document.body);
    const chart = (el: Element) => {
      const labels = [...el.querySelectorAll("svg text")].map((t) => t.getBoundingClientRect());
      return {
        box: box(el),
        card: cardOf(el),
        scrollWidth: el.scrollWidth,
        clientWidth: el.clientWidth,
        svgs: [...el.querySelectorAll("svg")].map(box),
        groups: [...el.querySelectorAll("[data-conversation], [data-worker]")].map((g) => ({
          conversation: (g as SVGElement).dataset.conversation,
          box: box(g),
        })),
        smallestLabelPx: Math.min(...labels.map((r) => r.height)),
      };
    };
    const transcript = (table: HTMLTableElement) => {
      const frame = table.parentElement ?? document.body;
      const body = [...table.tBodies].flatMap((tbody) => [...tbody.rows]);
      const short = body.flatMap((row) => [...row.cells].slice(0, 4));
      return {
        box: box(table),
        frame: box(frame),
        frameOverflowX: getComputedStyle(frame).overflowX,
        card: cardOf(table),
        columnWidths: [...(body[0]?.cells ?? [])].map((cell) => cell.getBoundingClientRect().width),
        shortCellsWhiteSpace: short.map((cell) => getComputedStyle(cell).whiteSpace),
      };
    };
    const sections = [...document.querySelectorAll(".apps > section")].map((section) => {
      const table = section.querySelector<HTMLTableElement>("table.transcript");
      return {
        charts: [...section.querySelectorAll(".chart")].map(chart),
        transcript: table ? transcript(table) : undefined,
      };
    });
    return {
      innerWidth: window.innerWidth,
      documentScrollWidth: document.documentElement.scrollWidth,
      sections,
    };
  });
}

/** Half a pixel of slack for sub-pixel layout. */
const within = (inner: Box, outer: Box) =>
  inner.left >= outer.left - 0.5 &&
  inner.right <= outer.right + 0.5 &&
  inner.top >= outer.top - 0.5 &&
  inner.bottom <= outer.bottom + 0.5;

function expectChartFits(chart: ChartLayout, innerWidth: number): void {
  expect(chart.scrollWidth, "chart scrolls or clips").toBeLessThanOrEqual(chart.clientWidth);
  expect(within(chart.box, chart.card), "chart wider than its card").toBe(true);
  for (const svg of chart.svgs) expect(within(svg, chart.box), "drawing outside chart").toBe(true);
  for (const { box, conversation } of chart.groups) {
    const where = `bars of ${conversation ?? "a worker"}`;
    expect(box.width * box.height, `${where}: no size`).toBeGreaterThan(0);
    expect(within(box, chart.box), `${where}: outside the chart's box`).toBe(true);
    expect(box.right, `${where}: off screen`).toBeLessThanOrEqual(innerWidth);
  }
  expect(chart.smallestLabelPx, "labels too small to read").toBeGreaterThanOrEqual(READABLE_PX);
}

function expectTranscriptFits(table: TableLayout): void {
  expect(within(table.frame, table.card), "transcript's box wider than its card").toBe(true);
  if (table.box.width > table.frame.width + 0.5) {
    // Too wide for its box: it scrolls inside it, with a scrollbar.
    expect(["auto", "scroll"]).toContain(table.frameOverflowX);
  }
  const reply = table.columnWidths.at(-1) ?? 0;
  expect(table.columnWidths).toHaveLength(5);
  expect(reply, "the reply column is too narrow").toBeGreaterThanOrEqual(REPLY_MIN_PX);
  expect(reply / table.box.width, "the reply column gets the room").toBeGreaterThan(
    REPLY_MIN_SHARE,
  );
  expect(Math.max(...table.columnWidths), "a short column is wider than the reply").toBe(reply);
  expect(new Set(table.shortCellsWhiteSpace), "short values wrap").toEqual(new Set(["nowrap"]));
}

function expectSectionFits(section: Layout["sections"][number], run?: RunReport, innerWidth = 0) {
  for (const chart of section.charts) expectChartFits(chart, innerWidth);
  const ids = run?.check.conversations.map((c) => c.conversationId);
  const shown = section.charts[0]?.groups.map((g) => g.conversation);
  expect(ids).toHaveLength(CONVERSATIONS);
  expect(shown, `${run?.summary.app}: one group of bars per conversation`).toEqual(ids);
  if (section.transcript) expectTranscriptFits(section.transcript);
}

describe("the HTML report's layout, from 360 to 1920 px wide, in headless chromium", () => {
  let browser: Browser;
  const broken = simulatedReport("broken");
  const fixed = simulatedReport("fixed");
  const reports = { "side-by-side": [broken, fixed], single: [broken] };
  const fileOf = (kind: string) => resolve(SCREENSHOT_DIR, `html-layout-${kind}.html`);

  beforeAll(async () => {
    browser = await launchChromium();
    for (const [kind, runs] of Object.entries(reports)) await writeHtmlReport(fileOf(kind), runs);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("is built from a run that goes wrong and one that does not", () => {
    expect(broken.summary.verdict).toBe("invalid");
    expect(broken.summary.lost).toBeGreaterThan(0);
    expect(broken.summary.stale).toBeGreaterThan(0);
    expect(fixed.summary.verdict).toBe("valid");
  });

  for (const [kind, runs] of Object.entries(reports)) {
    for (const width of WIDTHS) {
      it(`${kind} report at ${width} px: charts fit, every conversation shows, nothing overflows`, async () => {
        const page = await browser.newPage({ viewport: { width, height: 900 } });
        try {
          await page.goto(pathToFileURL(fileOf(kind)).href);
          const layout = await measure(page);
          await page.screenshot({ path: join(SCREENSHOT_DIR, `html-layout-${kind}-${width}.png`) });
          expect(layout.sections).toHaveLength(runs.length);
          for (const [i, section] of layout.sections.entries()) {
            expectSectionFits(section, runs[i], layout.innerWidth);
          }
          expect(layout.documentScrollWidth, "page scrolls sideways").toBeLessThanOrEqual(
            layout.innerWidth,
          );
        } finally {
          await page.close();
        }
      });
    }
  }
});
