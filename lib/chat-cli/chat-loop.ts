import { createInterface } from "node:readline";
import pc from "picocolors";
import { formatHistory, formatTurn, HELP_LINE } from "./format.ts";
import type { ChatSession } from "./session.ts";

export interface ChatLoopOptions {
  session: ChatSession;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** A terminal: show a prompt and let readline edit the line. Otherwise each line is echoed. */
  interactive: boolean;
  /** Ctrl+C at the prompt (a terminal in raw mode sends no signal); defaults to ending the loop. */
  onInterrupt?: () => void;
}

/**
 * Reads lines until /quit or the end of input (Ctrl+D, or EOF when piped): a command, or
 * one turn per line. Lines are handled one at a time, so a conversation stays sequential
 * even when lines are piped in faster than the app answers. Server errors are printed,
 * never thrown.
 */
export async function runChatLoop(options: ChatLoopOptions): Promise<void> {
  const { session, output, interactive } = options;
  const print = (text: string) => output.write(`${text}\n`);
  const rl = createInterface({
    input: options.input,
    output: interactive ? output : undefined,
    terminal: interactive,
  });
  rl.setPrompt(pc.bold("you › "));
  rl.on("SIGINT", options.onInterrupt ?? (() => rl.close()));
  if (interactive) rl.prompt();
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (!interactive && line) print(`${pc.bold("you ›")} ${line}`);
      if (line === "/quit" || line === "/exit") break;
      if (line === "/help") print(HELP_LINE);
      else if (line === "/new") print(`new conversation ${pc.bold(session.newConversation())}`);
      else if (line === "/history")
        print(formatHistory(await session.history(), session.conversationId));
      else if (line.startsWith("/")) print(pc.yellow(`unknown command ${line}; try /help`));
      else if (line) print(formatTurn(await session.send(line)));
      if (interactive) rl.prompt();
    }
  } finally {
    rl.close();
  }
}
