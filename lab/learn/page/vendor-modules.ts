import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const eventsourceParser = join(dirname(require.resolve("eventsource-parser/package.json")), "dist");

/**
 * The packages' browser-ready ES modules the page imports, by the URL it imports them at (the
 * page has no build step, so no bundler resolves `import "eventsource-parser"` for it). Only
 * these files: the page server does not serve node_modules. stream.js imports "./index.js".
 */
export const VENDOR_MODULES: ReadonlyMap<string, string> = new Map([
  ["/vendor/eventsource-parser/stream.js", join(eventsourceParser, "stream.js")],
  ["/vendor/eventsource-parser/index.js", join(eventsourceParser, "index.js")],
]);
