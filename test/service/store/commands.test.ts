import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { scriptNamesBySha, withStoreCommands } from "../../../service/store/commands.ts";

describe("the Lua commands (service/store/commands/<name>-<numKeys>.lua)", () => {
  it("registers every script under its camelCase name, its key count from the file name", () => {
    const client = new Redis({ lazyConnect: true });
    const commands = withStoreCommands(client);
    const names = [...scriptNamesBySha().values()].sort();
    expect(names).toEqual([
      "acquireTurn",
      "agentsSessionAdd",
      "agentsSessionClear",
      "agentsSessionPop",
      "agentsSessionTransaction",
      "appendMessages",
      "appendTurn",
      "checkpointDeleteThread",
      "checkpointGet",
      "checkpointPut",
      "checkpointPutWrites",
      "loadRecent",
      "releaseTurn",
      "renewTurn",
      "replaceMessages",
      "streamAppend",
      "streamState",
    ]);
    for (const name of names)
      expect(typeof commands[name as keyof typeof commands]).toBe("function");
    const numberOfKeys = (name: string) =>
      (client as unknown as { scriptsSet: Record<string, { numberOfKeys: number }> }).scriptsSet[
        name
      ]?.numberOfKeys;
    expect(names.map(numberOfKeys)).toEqual([4, 5, 2, 2, 2, 1, 4, 1, 4, 8, 6, 1, 1, 1, 1, 2, 2]);
    client.disconnect();
  });
});
