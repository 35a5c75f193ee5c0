import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trafficDuring } from "../../../lab/bench/redis-traffic.ts";
import { type PrivateRedis, startPrivateRedis } from "../../../lab/processes/redis-server.ts";

describe("trafficDuring: the bytes of an action, from INFO stats", () => {
  let server: PrivateRedis;
  let client: Redis;
  beforeAll(async () => {
    server = await startPrivateRedis();
    client = new Redis(server.url);
    await client.ping();
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it("counts nothing for nothing: its own INFO calls are taken out", async () => {
    const { traffic } = await trafficDuring(server.url, async () => {});
    expect(traffic).toEqual({ sent: 0, received: 0 });
  });

  it("counts a command's request and reply to the byte", async () => {
    const { result, traffic } = await trafficDuring(server.url, () => client.set("k", "v"));
    expect(result).toBe("OK");
    // *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n, then +OK\r\n
    expect(traffic).toEqual({ sent: 27, received: 5 });
  });

  it("waits for a MONITOR that just closed, whose feed would count as output", async () => {
    const monitor = await new Redis(server.url).monitor();
    monitor.disconnect();
    const { traffic } = await trafficDuring(server.url, () => client.get("k"));
    // *2\r\n$3\r\nGET\r\n$1\r\nk\r\n, then $1\r\nv\r\n
    expect(traffic).toEqual({ sent: 20, received: 7 });
  });
});
