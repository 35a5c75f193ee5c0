import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type AppOptions, createApp } from "./http/create-app.ts";
import { gracefulClose } from "./http/graceful-close.ts";

export interface RunningServer {
  server: Server;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish, then closes the service. */
  stop(): Promise<void>;
}

/**
 * Serves the app on `port` of 127.0.0.1 (under node:cluster every worker shares it).
 * `createApp` is the contract; this only listens and stops gracefully.
 */
export async function startServer(options: AppOptions & { port: number }): Promise<RunningServer> {
  const server = createServer(createApp(options));
  const closeServer = gracefulClose(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => resolve());
  });
  const stop = async () => {
    await closeServer();
    options.turnGate?.close();
    await options.turnStreams?.close();
    await options.service.close();
  };
  return { server, port: (server.address() as AddressInfo).port, stop };
}
