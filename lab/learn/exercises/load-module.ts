/**
 * Child process of the exercise check: loads a chat-service module the way a worker does
 * and exits 1, with the error on stderr, if it cannot or if it exports no AgentChatService.
 *   node --import tsx lab/learn/exercises/load-module.ts <file>
 */
import { pathToFileURL } from "node:url";

const file = process.argv[2];
if (!file) {
  console.error("usage: load-module.ts <chat-service.ts>");
  process.exit(2);
}
try {
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  if (typeof module.AgentChatService !== "function") {
    console.error(`${file} does not export a class named AgentChatService`);
    process.exit(1);
  }
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
}
