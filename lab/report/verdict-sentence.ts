import { getScenario, SCENARIO_NAMES, type ScenarioName } from "../../scenarios/catalogue.ts";
import type { CheckResult } from "../check/types.ts";
import { plural } from "../check/wording.ts";
import type { RunSummary } from "./summary.ts";

/** The scenario behind a summary, when the app is one of the sandbox's own. */
function knownScenario(name: string) {
  return (SCENARIO_NAMES as readonly string[]).includes(name)
    ? getScenario(name as ScenarioName)
    : undefined;
}

/** Why a run passed although the app is broken: one worker, or sticky routing, hid the bug. */
function hiddenBy(summary: RunSummary): string | undefined {
  if (summary.app !== "broken" || summary.verdict !== "valid") return undefined;
  if (knownScenario(summary.scenario)?.brokenWithOneWorker) return undefined;
  if (summary.workers === 1) {
    return "one worker served every turn, so one process held each whole conversation and nothing had to cross workers (with --workers 4 the same code fails)";
  }
  if (summary.sticky) {
    return "--sticky kept each conversation on one connection, so on one worker, and nothing had to cross workers (without --sticky the same code fails)";
  }
  return undefined;
}

/** The verdict, and why, in one sentence a learner reads without the README. */
export function verdictSentence(summary: RunSummary, check: CheckResult): string {
  const t = check.totals;
  if (summary.verdict === "unknown")
    return `UNKNOWN: ${check.reasons[0] ?? "the run proved nothing"}.`;
  if (summary.verdict === "invalid") {
    if (summary.lost > 0)
      return `INVALID: the app answered 200 to ${summary.lost} ${plural(summary.lost, "turn")} that some later read of their conversation does not show: the agent forgets them.`;
    if (summary.stale > 0)
      return `INVALID: ${summary.stale} ${plural(summary.stale, "reply")} came from a history missing turns acknowledged before them.`;
    const stream = streamSentence(t);
    if (stream) return `INVALID: ${stream}`;
    if (t.overLimit > 0)
      return `INVALID: ${t.overLimit} more ${plural(t.overLimit, "turn")} got through than the user's limit allows.`;
    return `INVALID: ${check.reasons[0]}.`;
  }
  const hidden = hiddenBy(summary);
  if (hidden) return `VALID, but only because ${hidden}.`;
  const workers = `${summary.workers} ${plural(summary.workers, "worker")}`;
  if (summary.stream) {
    const resumed = `${summary.stream.crossed} resumed on another worker`;
    return `VALID: every acknowledged turn is in every read of its conversation, every reply saw the history before it, and every streamed reply reached its client whole (${resumed}), across ${workers}.`;
  }
  return `VALID: every acknowledged turn is in every read of its conversation and every reply saw the history before it, across ${workers}.`;
}

/** What a user of a streamed app notices, for the first stream anomaly there is. */
function streamSentence(t: CheckResult["totals"]): string | undefined {
  if (t.streamGap > 0)
    return `${t.streamGap} streamed ${plural(t.streamGap, "reply")} never reached ${t.streamGap === 1 ? "its client" : "their clients"} whole: the connection dropped, and resuming with Last-Event-ID on another worker did not give the rest of the reply.`;
  if (t.streamDuplicate > 0)
    return `${t.streamDuplicate} streamed ${plural(t.streamDuplicate, "reply")} repeated events the client already had when it resumed.`;
  if (t.streamMismatch > 0)
    return `${t.streamMismatch} streamed ${plural(t.streamMismatch, "reply")} read differently in the stream and in the stored history.`;
  return undefined;
}
