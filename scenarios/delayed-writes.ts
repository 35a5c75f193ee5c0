import { setTimeout as sleep } from "node:timers/promises";
import type { ChatMessage } from "../service/contract.ts";
import type {
  ConversationStore,
  Fence,
  RecentHistory,
} from "../service/store/conversation-store.ts";

/**
 * Makes every write take `delayMs` before it is applied, as a slow network or a busy
 * database would: an explicit, configurable race window (STORE_WRITE_DELAY_MS), so a
 * lesson that needs a race shows it on every run instead of "usually".
 */
export class DelayedWriteStore implements ConversationStore {
  readonly backend: string;

  constructor(
    private readonly inner: ConversationStore,
    private readonly delayMs: number,
  ) {
    this.backend = inner.backend;
  }

  load(key: string): Promise<ChatMessage[]> {
    return this.inner.load(key);
  }

  loadRecent(key: string, recent: number): Promise<RecentHistory> {
    return this.inner.loadRecent(key, recent);
  }

  loadRange(key: string, start: number, count: number): Promise<ChatMessage[]> {
    return this.inner.loadRange(key, start, count);
  }

  async append(key: string, messages: readonly ChatMessage[], fence?: Fence): Promise<number> {
    await sleep(this.delayMs);
    return this.inner.append(key, messages, fence);
  }

  async replace(key: string, messages: readonly ChatMessage[]): Promise<number> {
    await sleep(this.delayMs);
    return this.inner.replace(key, messages);
  }

  ping(): Promise<boolean> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
