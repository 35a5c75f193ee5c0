import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ChatMessage } from "../service/contract.ts";
import { StoreUnavailableError } from "../service/errors.ts";
import type {
  ConversationStore,
  Fence,
  RecentHistory,
} from "../service/store/conversation-store.ts";

interface ConversationFile {
  key: string;
  messages: readonly ChatMessage[];
}

/**
 * The article's own first fix: one JSON file per conversation. Each append reads the file,
 * adds the messages and replaces the file atomically (write a temp file, then rename), so a
 * reader never sees half a file. Correct for the workers of one machine taking turns one at
 * a time; it cannot be shared by several machines, and two overlapping appends can lose one.
 */
export class FileConversationStore implements ConversationStore {
  readonly backend = "files";

  constructor(private readonly directory: string) {}

  /** A fixed-length file name: keys can be long and contain any character. */
  pathOf(key: string): string {
    return join(this.directory, `${createHash("sha256").update(key).digest("hex")}.json`);
  }

  async load(key: string): Promise<ChatMessage[]> {
    let text: string;
    try {
      text = await readFile(this.pathOf(key), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new StoreUnavailableError(error);
    }
    return [...(JSON.parse(text) as ConversationFile).messages];
  }

  async loadRecent(key: string, recent: number): Promise<RecentHistory> {
    const messages = await this.load(key);
    return { messages: messages.slice(-recent), length: messages.length };
  }

  /** A file is read whole anyway: the range is cut from it. */
  async loadRange(key: string, start: number, count: number): Promise<ChatMessage[]> {
    if (count <= 0) return [];
    return (await this.load(key)).slice(start, start + count);
  }

  async append(key: string, messages: readonly ChatMessage[], fence?: Fence): Promise<number> {
    // Files have no lease to check: refuse rather than append unfenced.
    if (fence) throw new Error("the file store cannot fence a turn: run it without a turn gate");
    return this.replace(key, [...(await this.load(key)), ...messages]);
  }

  async replace(key: string, next: readonly ChatMessage[]): Promise<number> {
    const file: ConversationFile = { key, messages: next };
    const target = this.pathOf(key);
    const temp = `${target}.${process.pid}.${randomUUID()}.tmp`;
    try {
      await mkdir(this.directory, { recursive: true });
      await writeFile(temp, JSON.stringify(file));
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw new StoreUnavailableError(error);
    }
    return next.length;
  }

  async ping(): Promise<boolean> {
    try {
      await mkdir(this.directory, { recursive: true });
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {}
}
