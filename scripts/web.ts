/**
 * The side-by-side page: chat with the broken and the fixed app at once and watch which
 * worker answers and what the agent remembered.
 *   npm run start:web                    # http://localhost:3000, apps on :3001 and :3002
 *   tsx scripts/web.ts --port 3100 --broken-url http://127.0.0.1:4001 --fixed-url http://127.0.0.1:4002
 * Tokens are signed with AUTH_SECRET (or the development default): use the apps' secret.
 */
import { parseArgs } from "node:util";
import { startWebServer } from "../lab/learn/page/server.ts";
import { DEFAULT_PORTS, DEV_AUTH_SECRET } from "../service/config.ts";

const HELP = `Usage: npm run start:web -- [options]
  --port N            listening port (default PORT_WEB or 3000)
  --broken-url URL    the broken app (default http://127.0.0.1:3001)
  --fixed-url URL     the fixed app (default http://127.0.0.1:3002)`;

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    "broken-url": { type: "string" },
    "fixed-url": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const port = Number(values.port ?? process.env.PORT_WEB ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number, got ${values.port ?? process.env.PORT_WEB}`);
  process.exit(2);
}
const brokenUrl = values["broken-url"] ?? `http://127.0.0.1:${DEFAULT_PORTS.broken}`;
const fixedUrl = values["fixed-url"] ?? `http://127.0.0.1:${DEFAULT_PORTS.fixed}`;

const web = await startWebServer({
  port,
  brokenUrl,
  fixedUrl,
  secret: process.env.AUTH_SECRET ?? DEV_AUTH_SECRET,
});
console.log(
  `Side-by-side page: http://localhost:${web.port} (broken ${brokenUrl}, fixed ${fixedUrl})`,
);
if (!process.env.AUTH_SECRET) {
  console.log("AUTH_SECRET is not set: signing with the development default, like the apps.");
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void web.close().finally(() => process.exit(0));
  });
}
