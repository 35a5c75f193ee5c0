import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreWriteUncertainError, TurnFencedError } from "../../service/errors.ts";
import { conversationKeys } from "../../service/store/commands.ts";
import { ReplicasBehindError, type ReplicaWait } from "../../service/store/replica-wait.ts";
import type { TurnRecord } from "../../service/turns/leased-store.ts";
import { type ReplicatedRedis, startReplicatedRedis } from "./replicated-redis.ts";

/** How one framework adapter commits a turn, and how much of it a node holds afterwards. */
export interface TurnCommitter {
  /** Runs one turn against `redis` and commits it, waiting for `replicaWait`, with `record`. */
  commit(redis: Redis, key: string, replicaWait: ReplicaWait, record?: TurnRecord): Promise<void>;
  /** What the turn stored, as one node holds it: 0 when nothing. */
  storedOn(node: Redis, key: string): Promise<number>;
  /** `storedOn` after one committed turn. */
  storedByOneTurn: number;
}

/**
 * The replica-wait tests of a turn's commit (TurnCheckpointer, TurnSession), against a private
 * primary and replica: a commit returns once the replica has it; asking for more replicas than
 * there are is uncertain though the primary has it; a refused commit is refused, not uncertain.
 */
export function describeCommitReplicaWait(name: string, committer: TurnCommitter): void {
  describe(`${name} with a replica: a commit counts once replicas have it (WAIT)`, () => {
    let redis: ReplicatedRedis;
    let client: Redis;
    let n = 0;
    const newKey = () => `commit-wait-test:{acme:ada:${process.pid}-${n++}}`;
    const commit = (key: string, replicaWait: ReplicaWait, record?: TurnRecord) =>
      committer.commit(client, key, replicaWait, record);

    beforeAll(async () => {
      redis = await startReplicatedRedis();
      client = new Redis(redis.primary.url);
    });
    afterAll(async () => {
      client?.disconnect();
      await redis?.stop();
    });

    it("returns once the replica has what it stored", async () => {
      const key = newKey();
      // WAIT returns as soon as the replica confirms: 5 s only bounds a loaded machine.
      await commit(key, { replicas: 1, timeoutMs: 5000 });
      expect(await committer.storedOn(redis.onReplica, key)).toBe(committer.storedByOneTurn);
    });

    it("fewer replicas than asked: uncertain (503 store_write_uncertain), though the primary has it", async () => {
      const key = newKey();
      const refused = await commit(key, { replicas: 2, timeoutMs: 300 }).catch(
        (error: unknown) => error,
      );
      expect(refused).toBeInstanceOf(StoreWriteUncertainError);
      expect((refused as Error).cause).toBeInstanceOf(ReplicasBehindError);
      expect(await committer.storedOn(redis.onPrimary, key)).toBe(committer.storedByOneTurn);
    });

    it("a fenced commit is fenced, not uncertain: it wrote nothing to wait for", async () => {
      const key = newKey();
      const keys = conversationKeys(key);
      const record = { leaseKey: keys.lease, holder: "1.x:t1", turnsKey: keys.turns, turnId: "t1" };
      await expect(commit(key, { replicas: 2, timeoutMs: 300 }, record)).rejects.toThrow(
        TurnFencedError,
      );
      expect(await committer.storedOn(redis.onPrimary, key)).toBe(0);
    });
  });
}
