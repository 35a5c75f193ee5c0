import { createConnection, createServer, type Server, type Socket } from "node:net";
import { freePort } from "./free-port.ts";

export interface TcpProxyOptions {
  /** Where connections go: `host:targetPort`. */
  targetPort: number;
  /** Defaults to 127.0.0.1, for the target and for the proxy's own listening address. */
  host?: string;
}

/** A TCP proxy on 127.0.0.1 that a test can cut and restore, like pulling a network cable. */
export interface TcpProxy {
  /** The port the proxy listens on: connect here instead of to the target. */
  readonly port: number;
  /** Whether the proxy is cut right now. */
  readonly isCut: boolean;
  /**
   * Destroys every current connection (both ends) and, until `restore()`, destroys each new
   * one as soon as it arrives: both peers see the link drop and every reconnect fail.
   */
  cut(): void;
  /** Lets new connections through again (the dropped ones stay dropped: peers reconnect). */
  restore(): void;
  /** Destroys every connection and closes the listening port. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts a proxy on a free port that pipes every connection to `host:targetPort`. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const host = options.host ?? "127.0.0.1";
  // A port that was free a moment ago can be taken before we bind it: try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await listenOnce(host, options.targetPort);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt === 3) throw error;
    }
  }
}

async function listenOnce(host: string, targetPort: number): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let isCut = false;
  let stopped: Promise<void> | undefined;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    // A reset peer is the normal end of a cut link, not a failure of the proxy.
    socket.on("error", () => socket.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (isCut) {
      client.destroy();
      return;
    }
    const target = createConnection({ host, port: targetPort });
    track(target);
    // Either end closing closes the other: the proxy never holds a half-open link.
    client.on("close", () => target.destroy());
    target.on("close", () => client.destroy());
    client.pipe(target);
    target.pipe(client);
  });
  await listen(server, port, host);
  const destroyAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    get isCut() {
      return isCut;
    },
    cut: () => {
      isCut = true;
      destroyAll();
    },
    restore: () => {
      isCut = false;
    },
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        destroyAll();
      });
      return stopped;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}
