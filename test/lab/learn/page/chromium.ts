import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { type Browser, chromium } from "playwright-core";

/** Debian's chromium; playwright-core never downloads a browser of its own here. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Where browser tests leave their screenshots (a test artifact, git-ignored with .runs/). */
export const SCREENSHOT_DIR = ".runs/screenshots";

/**
 * Headless chromium for the browser tests. A missing browser is a failure with the fix in
 * the message, never a silent skip: CI installs it (.ci/run), so a skip would hide a break.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: the browser tests need it. ` +
        "Install Debian's package: sudo apt-get update && sudo apt-get install -y chromium " +
        "(.ci/run does this), or set CHROMIUM_PATH to another Chromium or Chrome binary.",
    );
  }
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
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
