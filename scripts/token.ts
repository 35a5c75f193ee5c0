/**
 * Prints a bearer token for a tenant and a user, signed with AUTH_SECRET
 * (or the development default). The token is the last line of output.
 *   npm run token -- acme ann
 *   npm run token -- acme ann --ttl 3600
 */
import { parseArgs } from "node:util";
import { issueToken } from "../service/auth/tokens.ts";
import { DEV_AUTH_SECRET } from "../service/config.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { ttl: { type: "string" } },
});
const [tenant, user] = positionals;
if (!tenant || !user || positionals.length !== 2) {
  console.error("Usage: npm run token -- <tenant> <user> [--ttl SECONDS]");
  process.exit(2);
}
const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
  console.error("--ttl must be a whole number of seconds > 0");
  process.exit(2);
}
if (!process.env.AUTH_SECRET)
  console.error("(signed with the development secret: AUTH_SECRET is not set)");
console.log(issueToken({ tenant, user }, process.env.AUTH_SECRET ?? DEV_AUTH_SECRET, ttl));
