import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import bundledChromium from "@sparticuz/chromium";
import { type Browser, chromium } from "playwright-core";

/** Where browser tests leave their screenshots (a test artifact, git-ignored with .runs/). */
export const SCREENSHOT_DIR = ".runs/screenshots";

/** A system Chromium, where the machine has one. */
const SYSTEM_CHROMIUMS = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/**
 * The Chromium to drive: `CHROMIUM_PATH` when set, else a system Chromium, else the one
 * `npm install` brought (@sparticuz/chromium: a Chromium build inside the npm package,
 * unpacked to the temp dir on first use, about 2 s). playwright-core never downloads one.
 */
async function chromiumPath(): Promise<string> {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`CHROMIUM_PATH=${chosen} does not exist`);
    return chosen;
  }
  const system = SYSTEM_CHROMIUMS.find((path) => existsSync(path));
  if (system) return system;
  try {
    return await bundledChromium.executablePath();
  } catch (error) {
    throw new Error(
      "The browser tests found no Chromium: @sparticuz/chromium (installed by npm install) " +
        `could not be unpacked (${(error as Error).message}). Run npm install again, or set ` +
        "CHROMIUM_PATH to a Chromium or Chrome binary.",
    );
  }
}

/** Headless Chromium for the browser tests. A missing browser is a failure, never a skip. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = await chromiumPath();
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return chromium.launch({
    executablePath,
    headless: true,
    // No sandbox as root; the rest keeps Chromium from reaching for the (closed) network.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
