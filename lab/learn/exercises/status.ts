import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ScenarioName } from "../../../scenarios/catalogue.ts";
import { exercisesDir } from "../../../scenarios/variant.ts";
import { exerciseFile, STATUS_FILE } from "./prepare.ts";

/** How the last check of an exercise ended. */
export type CheckStatus = "solved" | "unsolved" | "does-not-compile" | "did-not-start" | "error";

/** What `npm run exercise` (no name) shows for one exercise. */
export type ListStatus = CheckStatus | "not-started" | "edited" | "unchecked";

interface CachedStatus {
  status: CheckStatus;
  checkedAt: string;
  /** sha256 of the learner's file when it was checked. */
  sha256: string;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function statusFile(name: ScenarioName, dir: string): string {
  return join(dirname(exerciseFile(name, dir)), STATUS_FILE);
}

/** Remembers how the check of the file as it is now ended. */
export async function saveStatus(
  name: ScenarioName,
  status: CheckStatus,
  dir: string = exercisesDir(),
): Promise<void> {
  const file = exerciseFile(name, dir);
  if (!existsSync(file)) return;
  const cached: CachedStatus = {
    status,
    checkedAt: new Date().toISOString(),
    sha256: sha256(await readFile(file, "utf8")),
  };
  await writeFile(statusFile(name, dir), `${JSON.stringify(cached, null, 2)}\n`);
}

/** The cached status, `edited` when the file changed since, `not-started` when there is no copy. */
export async function readStatus(
  name: ScenarioName,
  dir: string = exercisesDir(),
): Promise<ListStatus> {
  const file = exerciseFile(name, dir);
  if (!existsSync(file)) return "not-started";
  try {
    const cached = JSON.parse(await readFile(statusFile(name, dir), "utf8")) as CachedStatus;
    return cached.sha256 === sha256(await readFile(file, "utf8")) ? cached.status : "edited";
  } catch {
    return "unchecked";
  }
}
