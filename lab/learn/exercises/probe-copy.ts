/**
 * Child process of the exercise check: runs the learner's copy as one worker would and prints
 * the parts of a whole fix it lacks, as one line: PROBE_RESULT_PREFIX, then MissingPart[] in
 * JSON. A process of its own, so every check imports the copy afresh, and a copy that leaves
 * connections open or hangs cannot keep the check waiting.
 *   node --import tsx lab/learn/exercises/probe-copy.ts <scenario>
 */
import { parseScenario } from "../../../scenarios/catalogue.ts";
import { configureLogging } from "../../../service/logger.ts";
import { PROBE_RESULT_PREFIX } from "./parts.ts";
import { findMissingParts } from "./probe-app.ts";

configureLogging("silent");
try {
  const missing = await findMissingParts(parseScenario(process.argv[2]));
  // Exit once the line is out: a copy whose close() releases nothing would keep the process up.
  process.stdout.write(`${PROBE_RESULT_PREFIX}${JSON.stringify(missing)}\n`, () => process.exit(0));
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
}
