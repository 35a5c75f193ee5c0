import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTcpProxy, type TcpProxy } from "../../../lab/processes/tcp-proxy.ts";

/** Connects to the proxy; resolves once connected. */
async function connect(port: number): Promise<Socket> {
  const socket = createConnection({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  await once(socket, "connect");
  return socket;
}

/** Sends `text` and resolves with what comes back first (the echo server answers in kind). */
async function roundTrip(socket: Socket, text: string): Promise<string> {
  const answer = once(socket, "data");
  socket.write(text);
  return String((await answer)[0]);
}

describe("startTcpProxy", () => {
  let echo: Server;
  let proxy: TcpProxy;

  beforeAll(async () => {
    echo = createServer((socket) => {
      socket.on("error", () => {});
      socket.pipe(socket);
    });
    echo.listen(0, "127.0.0.1");
    await once(echo, "listening");
    const address = echo.address();
    const targetPort = typeof address === "object" && address ? address.port : 0;
    proxy = await startTcpProxy({ targetPort });
  });
  afterAll(async () => {
    await proxy?.stop();
    echo?.close();
  });

  it("pipes bytes both ways between a client and the target", async () => {
    const socket = await connect(proxy.port);
    try {
      expect(proxy.port).not.toBe(0);
      expect(await roundTrip(socket, "hello")).toBe("hello");
    } finally {
      socket.destroy();
    }
  });

  it("cut() drops the open connections and every new one until restore()", async () => {
    const open = await connect(proxy.port);
    expect(await roundTrip(open, "before")).toBe("before");
    const closed = once(open, "close");
    proxy.cut();
    expect(proxy.isCut).toBe(true);
    await closed;

    const refused = createConnection({ host: "127.0.0.1", port: proxy.port });
    refused.on("error", () => {});
    const received: Buffer[] = [];
    refused.on("data", (chunk: Buffer) => received.push(chunk));
    refused.write("anyone?");
    await once(refused, "close");
    expect(received).toEqual([]);

    proxy.restore();
    expect(proxy.isCut).toBe(false);
    const again = await connect(proxy.port);
    try {
      expect(await roundTrip(again, "after")).toBe("after");
    } finally {
      again.destroy();
    }
  });

  it("stop() closes the port; twice is fine", async () => {
    const own = await startTcpProxy({ targetPort: proxy.port });
    await own.stop();
    await own.stop();
    const socket = createConnection({ host: "127.0.0.1", port: own.port });
    const [error] = (await once(socket, "error")) as [NodeJS.ErrnoException];
    expect(error.code).toBe("ECONNREFUSED");
  });
});
