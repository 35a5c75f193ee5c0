import { execFile } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");
const BIOME = join(ROOT, "node_modules", ".bin", "biome");
const probes: string[] = [];

/** Writes a probe file into the tree (where biome.json's rules apply to it), removed afterwards. */
async function probe(path: string, source: string): Promise<string> {
  const file = join(ROOT, path);
  probes.push(file);
  await writeFile(file, source);
  return file;
}

/** `biome lint` on the files: its exit code and what it printed. */
async function lint(...files: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(BIOME, ["lint", "--colors=off", ...files], { cwd: ROOT });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

afterEach(async () => {
  await Promise.all(probes.splice(0).map((file) => rm(file, { force: true })));
});

describe("npm run lint keeps the layers apart (biome.json)", () => {
  const tag = `lint-probe-${process.pid}`;

  it("fails on an import from the service into the lab or the scenarios", async () => {
    const file = await probe(
      `service/${tag}.ts`,
      'import { SCENARIOS } from "../scenarios/catalogue.ts";\nimport { runLoad } from "../lab/load/run-load.ts";\nexport const probe = [SCENARIOS, runLoad];\n',
    );
    const { code, output } = await lint(file);
    expect(code).not.toBe(0);
    expect(output.match(/lint\/style\/noRestrictedImports/g)).toHaveLength(2);
    expect(output).toContain("it imports nothing outside itself");
  });

  it("fails on an import from the scenarios into the lab", async () => {
    const file = await probe(
      `scenarios/${tag}.ts`,
      'import { runLoad } from "../lab/load/run-load.ts";\nexport const probe = runLoad;\n',
    );
    const { code, output } = await lint(file);
    expect(code).not.toBe(0);
    expect(output).toContain("lint/style/noRestrictedImports");
  });

  it("fails on an import cycle anywhere", async () => {
    const a = await probe(
      `lab/${tag}-a.ts`,
      `import { b } from "./${tag}-b.ts";\nexport const a = () => b;\n`,
    );
    const b = await probe(
      `lab/${tag}-b.ts`,
      `import { a } from "./${tag}-a.ts";\nexport const b = () => a;\n`,
    );
    const { code, output } = await lint(a, b);
    expect(code).not.toBe(0);
    expect(output.match(/lint\/suspicious\/noImportCycles/g)).toHaveLength(2);
  });

  it("passes the same imports where the layers allow them", async () => {
    const file = await probe(
      `lab/${tag}.ts`,
      'import { SCENARIOS } from "../scenarios/catalogue.ts";\nimport { createApp } from "../service/index.ts";\nexport const probe = [SCENARIOS, createApp];\n',
    );
    expect(await lint(file)).toMatchObject({ code: 0 });
  });
});
