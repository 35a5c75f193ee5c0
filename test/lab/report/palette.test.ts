import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const PRINT_TABLE = `
import { textTable, verdictTag } from "./lab/report/palette.ts";
const table = textTable({ head: ["a"] });
table.push([verdictTag("valid")]);
console.log(table.toString());
`;

/**
 * A table printed by a child process whose output is a pipe, with the given colour settings.
 * The settings picocolors reads (FORCE_COLOR, NO_COLOR, CI) are removed from what it inherits,
 * so a CI runner's own `CI=true` does not decide the answer.
 */
async function printed(env: Record<string, string>): Promise<string> {
  const { FORCE_COLOR: _force, NO_COLOR: _no, CI: _ci, ...inherited } = process.env;
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "-e", PRINT_TABLE],
    { env: { ...inherited, ...env } },
  );
  return stdout;
}

describe("terminal colours", () => {
  it("are written only where they can be seen: not into a pipe or file, never with NO_COLOR", async () => {
    expect(await printed({})).not.toContain("\u001b[");
    expect(await printed({ NO_COLOR: "1", FORCE_COLOR: "1" })).not.toContain("\u001b[");
    // Where colour is on, the borders are grey and the verdict green.
    const coloured = await printed({ FORCE_COLOR: "1" });
    expect(coloured).toContain("\u001b[90m");
    expect(coloured).toContain("\u001b[32m");
  });

  it("are written into a CI log (CI set), which CI pages display, unless NO_COLOR", async () => {
    expect(await printed({ CI: "true" })).toContain("\u001b[32m");
    expect(await printed({ CI: "true", NO_COLOR: "1" })).not.toContain("\u001b[");
  });
});
