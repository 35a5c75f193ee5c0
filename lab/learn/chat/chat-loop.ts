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

const PROMPT = pc.bold("you › ");

/**
 * Reads lines until /quit or the end of input (Ctrl+D, or EOF when piped): a command, or
 * one turn per line. Lines are queued and handled one at a time, so a conversation stays
 * sequential even when lines arrive faster than the app answers. Server errors are
 * printed, never thrown.
 */
export function runChatLoop(options: ChatLoopOptions): Promise<void> {
  const { session, output, interactive } = options;
  const print = (text: string) => output.write(`${text}\n`);
  const rl = createInterface({
    input: options.input,
    output: interactive ? output : undefined,
    terminal: interactive,
  });
  rl.setPrompt(PROMPT);

  const queue: string[] = [];
  let running = false;
  let closed = false;
  let done = false;
  // True while the prompt is on screen with nothing typed after it yet.
  let promptShown = false;

  /** Handles one line; false to stop. */
  async function handle(line: string): Promise<boolean> {
    if (line === "/quit" || line === "/exit") return false;
    if (line === "/help") print(HELP_LINE);
    else if (line === "/new") print(`new conversation ${pc.bold(session.newConversation())}`);
    else if (line === "/history")
      print(formatHistory(await session.history(), session.conversationId));
    else if (line.startsWith("/")) print(pc.yellow(`unknown command ${line}; try /help`));
    else if (line) print(formatTurn(await session.send(line)));
    return true;
  }

  return new Promise<void>((resolve, reject) => {
    const finish = () => {
      if (done) return;
      done = true;
      // Ctrl+D leaves the cursor after the prompt: later output starts on a line of its own.
      if (promptShown) output.write("\n");
      rl.close();
      resolve();
    };
    const drain = async () => {
      running = true;
      while (queue.length > 0 && !done) {
        const line = (queue.shift() ?? "").trim();
        // A line typed at a prompt on screen is already visible; one that was queued
        // (piped, pasted, typed while a turn ran) is echoed so each reply follows its question.
        if (line && !promptShown) print(`${PROMPT}${line}`);
        promptShown = false;
        if (!(await handle(line))) return finish();
      }
      running = false;
      if (closed) finish();
      else if (interactive) {
        rl.prompt();
        promptShown = true;
      }
    };
    rl.on("SIGINT", () => {
      if (promptShown) output.write("\n");
      promptShown = false;
      if (options.onInterrupt) options.onInterrupt();
      else finish();
    });
    rl.on("line", (line) => {
      queue.push(line);
      if (!running) drain().catch(reject);
    });
    // Ctrl+D or EOF: answer what is still queued, then stop.
    rl.on("close", () => {
      closed = true;
      if (!running) finish();
    });
    if (interactive) {
      rl.prompt();
      promptShown = true;
    }
  });
}
