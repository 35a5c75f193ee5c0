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

export interface NodeRun {
  /** The exit code; null when the child was killed (see `timeoutMs`). */
  code: number | null;
  output: string;
}

/**
 * Runs `node <args>` from the root and collects its stdout and stderr. The child leads a
 * process group of its own, so what it started (a redis-server) goes with it when it is
 * killed: after `timeoutMs`, or when this process exits first.
 */
export function runNode(args: string[], timeoutMs?: number): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const killGroup = () => {
      try {
        if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is gone already.
      }
    };
    process.once("exit", killGroup);
    const timer = timeoutMs === undefined ? undefined : setTimeout(killGroup, timeoutMs);
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      process.off("exit", killGroup);
      const killed = code === null ? `\n(killed: no end within ${timeoutMs ?? "?"} ms)` : "";
      resolve({ code, output: output.trim() + killed });
    });
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
    const { code, output } = await runNode([TSC, "--noEmit", "--pretty", "false", "-p", config]);
    return code === 0 ? { ok: true, output } : { ok: false, stage: "typecheck", output };
  } finally {
    await rm(config, { force: true });
  }
}

/** Loads the module in a fresh process, as a worker would (tsx). */
export async function loadCheck(file: string): Promise<CompileResult> {
  const { code, output } = await runNode(["--import", "tsx", LOADER, file]);
  return code === 0 ? { ok: true, output } : { ok: false, stage: "load", output };
}

/** Type check, then load: the two ways a learner's file can fail before the app starts. */
export async function compileExercise(file: string): Promise<CompileResult> {
  const typed = await typecheck(file);
  if (!typed.ok) return typed;
  return loadCheck(file);
}
