import { rm } from "node:fs/promises";
import { afterAll, beforeAll } from "vitest";

/**
 * Points EXERCISES_DIR at `dir` for the file's tests, empty at the start and removed at the
 * end. Set before anything runs: the checks' child processes inherit process.env and load
 * the learner's copy from there.
 */
export function useExercisesDir(dir: string): void {
  let previousDir: string | undefined;
  beforeAll(async () => {
    previousDir = process.env.EXERCISES_DIR;
    process.env.EXERCISES_DIR = dir;
    await rm(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    if (previousDir === undefined) delete process.env.EXERCISES_DIR;
    else process.env.EXERCISES_DIR = previousDir;
    await rm(dir, { recursive: true, force: true });
  });
}
