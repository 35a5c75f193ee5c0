import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningWebServer, startWebServer } from "../../../../lab/learn/page/server.ts";
import { type AppCluster, startAppCluster } from "../../../../lab/processes/app-cluster.ts";
import { freePort } from "../../../../lab/processes/free-port.ts";
import { type RedisHandle, startPrivateRedis } from "../../../../lab/processes/redis-server.ts";
import type { AppName } from "../../../../scenarios/catalogue.ts";
import { launchChromium, SCREENSHOT_DIR } from "./chromium.ts";

const SECRET = "web-page-test-secret";
const SCRIPTED_TURNS = 6;

interface ShownTurn {
  state: string;
  worker: number;
  seen: number;
  expected: number;
  forgot: boolean;
  text: string;
  /** The reply's text as shown ("Agent: ..."). */
  reply: string;
  /** Set when the page dropped (or lost) the connection and resumed the stream elsewhere. */
  droppedAfter: number;
  resumedBy: number;
  /** Whether the streamed words joined up to done's reply. */
  intact: string | undefined;
  /** Why the rest of a lost reply is gone. */
  lost: string;
}

/** What one column shows, read from the data attributes the page sets on each turn. */
function shownTurns(page: Page, app: AppName): Promise<ShownTurn[]> {
  return page.$$eval(`.column[data-app="${app}"] li.turn`, (items) =>
    items.map((item) => {
      const d = (item as HTMLElement).dataset;
      return {
        state: d.state ?? "",
        worker: Number(d.worker),
        seen: Number(d.seen),
        expected: Number(d.expected),
        forgot: d.forgot === "true",
        text: item.textContent ?? "",
        reply: item.querySelector(".reply")?.textContent ?? "",
        droppedAfter: Number(d.droppedAfter),
        resumedBy: Number(d.resumedBy),
        intact: d.intact,
        lost: item.querySelector('[data-role="lost"]')?.textContent ?? "",
      };
    }),
  );
}

interface ShownText {
  text: string;
  /** performance.now() when it was shown. */
  at: number;
}

/**
 * Records every text the first reply of `app` shows, and when, as it is set (the text nodes the
 * page puts in, so no state between two frames is missed); read back with `shownTexts`.
 */
function recordFirstReply(page: Page, app: AppName): Promise<void> {
  return page.evaluate((selector) => {
    const shown: ShownText[] = [];
    Object.assign(window, { shownTexts: shown });
    const log = document.querySelector(selector);
    if (!log) throw new Error(`no ${selector}`);
    new MutationObserver((records) => {
      for (const record of records) {
        const target = record.target as HTMLElement;
        if (!target.matches('li.turn[data-turn="1"] .reply')) continue;
        const at = performance.now();
        for (const node of record.addedNodes) shown.push({ text: node.textContent ?? "", at });
      }
    }).observe(log, { childList: true, subtree: true });
  }, `.column[data-app="${app}"] [data-role="log"]`);
}

const shownTexts = (page: Page) =>
  page.evaluate(() => (window as unknown as { shownTexts: ShownText[] }).shownTexts);

const doneCount = (page: Page, app: AppName, n: number) =>
  page.waitForFunction(
    ([selector, count]) => document.querySelectorAll(selector).length >= count,
    [`.column[data-app="${app}"] li.turn:not([data-state="pending"])`, n] as const,
    { timeout: 30_000 },
  );

/** Replays the page's scripted conversation and waits until both columns have every answer. */
async function replayScript(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Replay scripted conversation" }).click();
  await doneCount(page, "broken", SCRIPTED_TURNS);
  await doneCount(page, "fixed", SCRIPTED_TURNS);
  await page.waitForFunction(() => !document.querySelector("#replay")?.hasAttribute("disabled"));
}

describe("the side-by-side page, in headless chromium, against real clusters", () => {
  let redis: RedisHandle;
  let apps: AppCluster[] = [];
  let web: RunningWebServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    // Fails with how to install chromium, before anything else is started.
    browser = await launchChromium();
    redis = await startPrivateRedis();
    apps = await Promise.all(
      (["broken", "fixed"] as const).map((app) =>
        startAppCluster({
          app,
          scenario: "memory",
          workers: 4,
          // Replies stream a word every 30 ms: a test watches the DOM, not the screen, and a
          // renderer that stalls a moment on a loaded machine still sees several words arrive.
          env: {
            REDIS_URL: redis.url,
            AUTH_SECRET: SECRET,
            AGENT_LATENCY_MS: "5",
            AGENT_CHUNK_DELAY_MS: "30",
          },
        }),
      ),
    );
    web = await startWebServer({
      port: await freePort(),
      brokenUrl: apps[0]?.url ?? "",
      fixedUrl: apps[1]?.url ?? "",
      secret: SECRET,
    });
  });

  // Each test gets a page of its own (a fresh browser context: its own session, so its own
  // user and conversation), so none depends on what another test did, in any order.
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(web.url);
    await page.waitForSelector('body[data-ready="true"]');
  });

  afterEach(async () => {
    await page?.close();
  });

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await Promise.all(apps.map((app) => app.stop()));
    await redis?.stop();
  });

  it("shows the broken app forgetting and the fixed app remembering after the replay", async () => {
    await expect
      .poll(() => page.textContent('.column[data-app="broken"] [data-role="health"]'))
      .toContain("app broken");
    expect(await page.textContent('.column[data-app="fixed"] [data-role="health"]')).toContain(
      "store redis",
    );

    await replayScript(page);

    const broken = await shownTurns(page, "broken");
    const fixed = await shownTurns(page, "fixed");
    expect(broken.map((t) => t.state)).toEqual(Array(SCRIPTED_TURNS).fill("done"));
    expect(fixed.map((t) => t.state)).toEqual(Array(SCRIPTED_TURNS).fill("done"));

    // Fixed: the k-th turn's agent saw 2k-1 messages, never a forgot marker.
    expect(fixed.map((t) => t.seen)).toEqual([1, 3, 5, 7, 9, 11]);
    expect(fixed.every((t) => !t.forgot)).toBe(true);
    expect(await page.locator('.column[data-app="fixed"] .seen.forgot').count()).toBe(0);
    expect(await page.textContent('.column[data-app="fixed"] [data-role="tally"]')).toContain(
      "Remembered everything in 6 replies",
    );

    // Broken: its turns hop across workers, each with its own partial history.
    expect(broken.some((t) => t.seen < t.expected)).toBe(true);
    expect(await page.locator('.column[data-app="broken"] .seen.forgot').count()).toBeGreaterThan(
      0,
    );
    expect(await page.textContent('.column[data-app="broken"] .seen.forgot')).toMatch(
      /saw \d+ of \d+ messages · forgot \d+ messages/,
    );
    expect(await page.textContent('.column[data-app="broken"] [data-role="tally"]')).toMatch(
      /Forgot something in \d+ of 6 replies/,
    );

    // Worker labels in text (not colour alone), from more than one worker in each column.
    for (const turns of [broken, fixed]) {
      expect(new Set(turns.map((t) => t.worker)).size).toBeGreaterThan(1);
      expect(turns.every((t) => /worker \d+/.test(t.text))).toBe(true);
    }

    await page.screenshot({ path: join(SCREENSHOT_DIR, "page-after-replay.png"), fullPage: true });
  });

  it("sends a typed message to both apps from the keyboard", async () => {
    // The typed message continues this test's own scripted conversation of 6 turns.
    await replayScript(page);
    const input = page.getByLabel("Message to both apps");
    await input.focus();
    await input.fill("Do you remember my name?");
    await page.keyboard.press("Enter");
    await doneCount(page, "broken", SCRIPTED_TURNS + 1);
    await doneCount(page, "fixed", SCRIPTED_TURNS + 1);
    const fixed = await shownTurns(page, "fixed");
    expect(fixed.at(-1)?.seen).toBe(13);
    expect(fixed.at(-1)?.text).toContain("Do you remember my name?");
  });

  it("starts a new conversation: the fixed app's agent starts from nothing again", async () => {
    // A conversation of 6 turns first, so there is something to start over from.
    await replayScript(page);
    expect((await shownTurns(page, "fixed")).at(-1)?.seen).toBe(11);
    await page.getByRole("button", { name: "New conversation" }).click();
    expect(await page.locator("li.turn").count()).toBe(0);
    await page.getByLabel("Message to both apps").fill("Hello again.");
    await page.getByRole("button", { name: "Send to both" }).click();
    await doneCount(page, "broken", 1);
    await doneCount(page, "fixed", 1);
    expect((await shownTurns(page, "fixed"))[0]?.seen).toBe(1);
  });

  it("streams replies word by word; dropped, the fixed app's resume elsewhere ends them, the broken app's stalls", async () => {
    await recordFirstReply(page, "fixed");
    await page.getByRole("button", { name: "Replay scripted conversation" }).click();
    // Mid-reply: a turn still pending, a few words in.
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLElement>('li.turn[data-state="pending"]')].some(
        (item) => Number(item.dataset.deltas) >= 3,
      ),
    );
    await page.screenshot({ path: join(SCREENSHOT_DIR, "page-streaming.png"), fullPage: true });
    await replayScript(page);
    const streamed = await shownTurns(page, "fixed");
    expect(streamed.map((t) => t.seen)).toEqual([1, 3, 5, 7, 9, 11]);
    expect(streamed.every((t) => t.intact === "true" && !t.droppedAfter)).toBe(true);

    // The first reply grew word by word: partial texts before the whole one, shown as the words
    // came (a word every 30 ms), not all at once from one buffered answer.
    const final = streamed[0]?.reply ?? "";
    const partial = (await shownTexts(page)).filter(
      ({ text }) =>
        text.startsWith("Agent: ") && text.length < final.length && final.startsWith(text),
    );
    expect(new Set(partial.map((p) => p.text)).size).toBeGreaterThanOrEqual(2);
    const times = partial.map((p) => p.at);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(20);

    await page.getByLabel("Drop connection after 2 words of each reply").check();
    await replayScript(page);

    // Fixed: every reply cut after 2 words, finished by another worker from Redis, word for
    // word the reply an uncut stream gave, and the history intact.
    const fixed = await shownTurns(page, "fixed");
    expect(fixed.map((t) => t.state)).toEqual(Array(SCRIPTED_TURNS).fill("done"));
    expect(fixed.map((t) => t.seen)).toEqual([1, 3, 5, 7, 9, 11]);
    for (const turn of fixed) {
      expect(turn.droppedAfter).toBe(2);
      expect(turn.resumedBy).toBeGreaterThan(0);
      expect(turn.resumedBy).not.toBe(turn.worker);
      expect(turn.intact).toBe("true");
      expect(turn.text).toContain(`resumed on worker ${turn.resumedBy}`);
    }
    expect(fixed.map((t) => t.reply)).toEqual(streamed.map((t) => t.reply));
    expect(await page.textContent('.column[data-app="fixed"] [data-role="tally"]')).toContain(
      "Remembered everything in 6 replies (6 resumed on another worker)",
    );

    // Broken: the other worker has no stream for the turn; the reply stops after 2 words.
    const broken = await shownTurns(page, "broken");
    expect(broken.map((t) => t.state)).toEqual(Array(SCRIPTED_TURNS).fill("lost"));
    for (const turn of broken) {
      expect(turn.reply).toBe("Agent: You said ");
      expect(turn.resumedBy).not.toBe(turn.worker);
      expect(turn.lost).toBe(
        `✗ The rest of this reply is lost: worker ${turn.resumedBy} has no stream for it ` +
          `(404 not_found); only worker ${turn.worker}, which produced it, had it, in its memory.`,
      );
    }
    expect(await page.textContent('.column[data-app="broken"] [data-role="tally"]')).toContain(
      "Lost the rest of 6 of 6 replies mid-stream",
    );
    await page.screenshot({
      path: join(SCREENSHOT_DIR, "page-drop-connection.png"),
      fullPage: true,
    });
  });

  it("says readably when an app cannot be reached", async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const lonely = await startWebServer({
      port: await freePort(),
      brokenUrl: nowhere,
      fixedUrl: apps[1]?.url ?? "",
      secret: SECRET,
    });
    const other = await browser.newPage();
    try {
      await other.goto(lonely.url);
      await other.waitForSelector('body[data-ready="true"]');
      const health = await other.textContent('.column[data-app="broken"] [data-role="health"]');
      expect(health).toContain("502 app_unreachable");
      expect(health).toContain("npm run start:broken");
      await other.getByRole("button", { name: "Replay scripted conversation" }).click();
      await doneCount(other, "broken", SCRIPTED_TURNS);
      const turns = await shownTurns(other, "broken");
      expect(turns.every((t) => t.state === "failed" && t.text.includes("app_unreachable"))).toBe(
        true,
      );
    } finally {
      await other.close();
      await lonely.close();
    }
  });
});

describe("the same page against the framework scenarios (LangGraph, the Agents SDK)", () => {
  let browser: Browser;
  let redis: RedisHandle;

  beforeAll(async () => {
    browser = await launchChromium();
    redis = await startPrivateRedis();
  });

  afterAll(async () => {
    await browser?.close();
    await redis?.stop();
  });

  it.each(["langgraph", "openai-agents"] as const)(
    "%s: the broken column forgets, the fixed one counts 1, 3, ..., 11",
    async (scenario) => {
      const apps = await Promise.all(
        (["broken", "fixed"] as const).map((app) =>
          startAppCluster({
            app,
            scenario,
            workers: 4,
            env: { REDIS_URL: redis.url, AUTH_SECRET: SECRET, AGENT_LATENCY_MS: "5" },
          }),
        ),
      );
      const [brokenUrl = "", fixedUrl = ""] = apps.map((app) => app.url);
      const web = await startWebServer({
        port: await freePort(),
        brokenUrl,
        fixedUrl,
        secret: SECRET,
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        await page.goto(web.url);
        await page.waitForSelector('body[data-ready="true"]');
        await expect
          .poll(() => page.textContent('.column[data-app="fixed"] [data-role="health"]'))
          .toContain(`scenario ${scenario}`);
        await replayScript(page);
        const fixed = await shownTurns(page, "fixed");
        expect(fixed.map((t) => t.seen)).toEqual([1, 3, 5, 7, 9, 11]);
        const broken = await shownTurns(page, "broken");
        expect(broken.map((t) => t.state)).toEqual(Array(SCRIPTED_TURNS).fill("done"));
        expect(broken.some((t) => t.forgot)).toBe(true);
      } finally {
        await page.close();
        await web.close();
        await Promise.all(apps.map((app) => app.stop()));
      }
    },
  );
});
