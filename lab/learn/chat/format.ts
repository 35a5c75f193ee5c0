import pc from "picocolors";
import type { ServedBy } from "../../../service/contract.ts";
import { workerTag } from "../../report/palette.ts";
import type { Failure, HistoryOutcome, TurnOutcome } from "./session.ts";

/** "w3 pid 4242": the worker tag in the colour the demo's transcript uses for it. */
export function workerLabel(servedBy: ServedBy): string {
  return `${workerTag(servedBy.workerId)} ${pc.dim(`pid ${servedBy.pid}`)}`;
}

/** One reply: who served it, how much the agent was given against what it should have had. */
export function formatTurn(outcome: TurnOutcome): string {
  const number = pc.dim(`#${outcome.turn}`);
  if (!outcome.ok) return `${number} ${formatFailure(outcome)}`;
  const seen = outcome.forgot
    ? pc.red(
        `saw ${outcome.messagesSeen} of ${outcome.expected} messages ✗ forgot ${outcome.expected - outcome.messagesSeen}`,
      )
    : pc.green(`saw ${outcome.messagesSeen} of ${outcome.expected} messages ✓`);
  return `${number} ${workerLabel(outcome.servedBy)}  ${seen}\n   ${pc.bold("agent ›")} ${outcome.reply}`;
}

/** The stored messages as one worker sees them; a short count in red when it is missing some. */
export function formatHistory(outcome: HistoryOutcome, conversationId: string): string {
  if (!outcome.ok) return formatFailure(outcome);
  const { messages, expected } = outcome;
  const count = `${messages.length} of ${expected} messages`;
  const head = `${pc.bold(conversationId)} as ${workerLabel(outcome.servedBy)} sees it: ${
    messages.length < expected
      ? pc.red(`${count} ✗ (missing ${expected - messages.length})`)
      : pc.green(`${count} ✓`)
  }`;
  const lines = messages.map((message, index) => {
    const who = message.role === "user" ? pc.bold("you  ") : pc.bold("agent");
    return `  ${String(index + 1).padStart(2)}. ${who} ${message.content} ${pc.dim("stored by")} ${workerTag(message.servedBy.workerId)}`;
  });
  return [head, ...lines].join("\n");
}

/** `{error:{code,message}}` or a missing answer, as one red line with a hint where one helps. */
export function formatFailure(failure: Failure): string {
  const what = failure.status === undefined ? "no answer" : `${failure.status} ${failure.code}`;
  const line = pc.red(`✗ ${what}: ${failure.message}`);
  const hint = HINTS[failure.code];
  return hint ? `${line}\n   ${pc.dim(hint)}` : line;
}

const HINTS: Record<string, string> = {
  unauthorized:
    "The app checks tokens with another AUTH_SECRET: run the chat with the same AUTH_SECRET as the app.",
  store_unavailable: "The app cannot reach its store (Redis?): nothing was stored for this turn.",
  store_write_uncertain:
    "The write was sent but not confirmed: this turn may or may not be stored.",
  no_answer: "Is the app still running?",
};

export interface BannerInfo {
  app: string;
  scenario: string;
  /** Where this variant keeps its state: "history in Redis", ... */
  keeps?: string;
  /** The scenario's problem in plain words: what to expect from the broken variant. */
  problem?: string;
  url: string;
  /** "already running on :3001", "started here with 4 workers", ... */
  where: string;
  conversationId: string;
  logFile?: string;
}

export function banner(info: BannerInfo): string {
  return [
    [
      pc.bold(`Chatting with the ${info.app} app`),
      `${info.scenario} scenario`,
      ...(info.keeps ? [info.keeps] : []),
    ].join(" · "),
    `${info.url}, ${info.where}. Conversation ${pc.bold(info.conversationId)}.`,
    ...(info.logFile
      ? [pc.dim(`The app's JSON logs (one "turn" line per turn): ${info.logFile}`)]
      : []),
    "",
    "Each line you type is one turn, sent on a fresh connection, so the cluster hands it to the",
    'next worker. Watch the worker tag (w1, w2, ...) and "saw N of M messages": M is what the agent',
    `should have been given (2k-1 on the k-th turn). ${pc.red("Red")}: it was given less, it forgot.`,
    ...(info.problem ? [pc.dim(`Here: ${info.problem}`)] : []),
    HELP_LINE,
  ].join("\n");
}

export const HELP_LINE = pc.dim(
  "/history  the stored messages, as the worker answering sees them   /new  a new conversation   /help   /quit (or Ctrl+D)",
);
