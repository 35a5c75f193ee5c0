import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "./prepare.ts";

export interface CompileResult {
  ok: boolean;
  /** What failed: the type check (tsc) or loading the module (syntax, imports, missing export). */
  stage?: "typecheck" | "load";
  /** The compiler's or the loader's output. */
  output: string;
}

const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const LOADER = join(ROOT, "lab", "learn", "exercises", "load-module.ts");

function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output: output.trim() }));
  });
}

/** Type-checks one file with the project's compiler options (strict), nothing else. */
export async function typecheck(file: string): Promise<CompileResult> {
  if (!existsSync(TSC))
    return { ok: true, output: "typescript is not installed: type check skipped" };
  const dir = join(ROOT, ".runs");
  await mkdir(dir, { recursive: true });
  const config = join(dir, `tsconfig.exercise-${process.pid}-${Date.now()}.json`);
  await writeFile(
    config,
    JSON.stringify({ extends: join(ROOT, "tsconfig.json"), include: [], files: [file] }),
  );
  try {
    const { code, output } = await run([TSC, "--noEmit", "--pretty", "false", "-p", config]);
    return code === 0 ? { ok: true, output } : { ok: false, stage: "typecheck", output };
  } finally {
    await rm(config, { force: true });
  }
}

/** Loads the module in a fresh process, as a worker would (tsx). */
export async function loadCheck(file: string): Promise<CompileResult> {
  const { code, output } = await run(["--import", "tsx", LOADER, file]);
  return code === 0 ? { ok: true, output } : { ok: false, stage: "load", output };
}

/** Type check, then load: the two ways a learner's file can fail before the app starts. */
export async function compileExercise(file: string): Promise<CompileResult> {
  const typed = await typecheck(file);
  if (!typed.ok) return typed;
  return loadCheck(file);
}
