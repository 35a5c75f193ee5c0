import type { RunnableConfig } from "@langchain/core/runnables";
import type {
  ChannelVersions,
  Checkpoint,
  CheckpointMetadata,
} from "@langchain/langgraph-checkpoint";
import type { TurnRecord } from "../turns/leased-store.ts";
import { type CheckpointPut, RedisCheckpointSaver } from "./redis-checkpointer.ts";

/**
 * One turn's checkpointer, for a graph run with `durability: "exit"`: LangGraph then writes
 * one checkpoint, when the run ends. Reads go to the thread as usual; that checkpoint is held
 * here until `commit()`, which stores it in one script (checkpoint-put-8.lua), with the
 * turn's record when the turn holds a lease: fenced, the turn recorded for replays, the lease
 * ended, as the fenced append of the other fixed apps does. A run that fails is never
 * committed, so it stores nothing (LangGraph itself would store the failed step).
 * Build one per turn, like the graph compiled with it: runtime objects, no state kept.
 */
export class TurnCheckpointer extends RedisCheckpointSaver {
  private held: CheckpointPut | undefined;
  private heldWrites = 0;

  /** Holds the run's checkpoint; a second one means the graph was not run with durability "exit". */
  override async put(
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    newVersions: ChannelVersions,
  ): Promise<RunnableConfig> {
    if (this.held) {
      throw new Error('a turn stores one checkpoint: run the graph with durability: "exit"');
    }
    this.held = { config, checkpoint, metadata, newVersions };
    const { thread_id, checkpoint_ns = "" } = config.configurable ?? {};
    return { configurable: { thread_id, checkpoint_ns, checkpoint_id: checkpoint.id } };
  }

  /** Writes of a failed or interrupted step: not a completed turn, so `commit` refuses it. */
  override async putWrites(): Promise<void> {
    this.heldWrites += 1;
  }

  /**
   * Stores the run's checkpoint, with `record` (and the turn's `position` in the conversation)
   * when the turn holds a lease. Throws what the put throws: TurnFencedError when the lease is
   * lost or the turn already stored, CheckpointConflictError when the fork guard refuses it.
   */
  async commit(record: TurnRecord | undefined, position: number): Promise<void> {
    if (!this.held) throw new Error("the run wrote no checkpoint: nothing to commit");
    if (this.heldWrites > 0) {
      throw new Error("the run left pending writes (an error or an interrupt): not a whole turn");
    }
    await this.storeCheckpoint(this.held, record && { record, position });
  }
}
