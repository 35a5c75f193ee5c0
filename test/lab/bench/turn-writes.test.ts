import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureTurnWrites, type TurnWritesRow } from "../../../lab/bench/turn-writes.ts";
import { type PrivateRedis, startPrivateRedis } from "../../../lab/processes/redis-server.ts";

describe("what one framework turn writes, in process", () => {
  let server: PrivateRedis;
  let rows: TurnWritesRow[];
  const row = (label: string) => rows.find((r) => r.label.startsWith(label));

  beforeAll(async () => {
    server = await startPrivateRedis();
    rows = await measureTurnWrites(server.url, 10);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("LangGraph's default durability stores 3 checkpoints and 2 sets of pending writes for one step", () => {
    const step = row("LangGraph · RedisCheckpointSaver");
    expect(step?.checkpoints).toBe(3);
    expect(step?.pendingWrites).toBe(2);
    expect(step?.channelsPerPut).toEqual([
      ["__start__"],
      ["messages", "__start__", "branch:to:agent"],
      ["messages", "branch:to:agent"],
    ]);
    expect(step?.commands).toEqual([
      "evalsha checkpointGet",
      "evalsha checkpointPut",
      "evalsha checkpointPutWrites",
      "evalsha checkpointPutWrites",
      "evalsha checkpointPut",
      "evalsha checkpointPut",
    ]);
  });

  it('durability "exit" with TurnCheckpointer stores exactly 1 checkpoint, in 1 script', () => {
    const exit = row("LangGraph · TurnCheckpointer");
    expect(exit?.checkpoints).toBe(1);
    expect(exit?.pendingWrites).toBe(0);
    expect(exit?.channelsPerPut).toEqual([["messages", "__start__", "branch:to:agent"]]);
    expect(exit?.commands).toEqual(["evalsha checkpointGet", "evalsha checkpointPut"]);
  });

  it("an Agents SDK turn adds 2 items in 1 script, after 1 read", () => {
    expect(row("Agents SDK · RedisSession")?.items).toBe(2);
    expect(row("Agents SDK · RedisSession")?.commands).toEqual([
      "lrange",
      "evalsha agentsSessionAdd",
    ]);
    expect(row("Agents SDK · TurnSession")?.items).toBe(2);
    expect(row("Agents SDK · TurnSession")?.commands).toEqual([
      "evalsha loadRecent",
      "evalsha agentsSessionAdd",
    ]);
  });
});
