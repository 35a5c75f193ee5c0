import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stripVTControlCharacters } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

/** `scripts/chat.ts` as a user runs it, minus npm: stdin and stdout are pipes. */
export function spawnChat(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "chat.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Everything the process printed (colours removed) and how it exited. */
export async function finished(child: ChildProcess) {
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8");
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout: stripVTControlCharacters(out), stderr: stripVTControlCharacters(err) };
}

/** Pipes the lines in, closes stdin (EOF ends the chat) and waits for the process to exit. */
export async function chatWith(args: string[], lines: string[], env: Record<string, string> = {}) {
  const child = spawnChat(args, env);
  const done = finished(child);
  child.stdin?.end(`${lines.join("\n")}\n`);
  return done;
}

export const plain = stripVTControlCharacters;
