/**
 * Keeps this agent's inference tunnel to the server open for as long as the agent runs: dials,
 * serves HTTP/2 on the connection (the server sends, we forward to our serving jobs), pings it
 * to notice a dead path, and dials again with backoff when it drops.
 */
import { createServer as createH2Server } from "node:http2";
import type { Duplex } from "node:stream";
import { ServerList } from "@fedml/core/contract";
import { type BackoffOptions, DEFAULT_BACKOFF, backoffDelay, sleep } from "../backoff.js";
import type { Logger } from "../log.js";
import { type ServingPortOf, forwardToJob } from "./forward.js";
import { openTunnelSocket } from "./upgrade.js";

export interface TunnelOptions {
  /** One URL, or several replicas' separated by commas: a failed dial moves to the next. */
  serverUrl: string;
  deviceToken: string;
  portOf: ServingPortOf;
  log: Logger;
  /** Aborting it closes the tunnel for good. */
  signal: AbortSignal;
  backoff?: BackoffOptions;
  pingIntervalMs?: number;
  /** Called each time a tunnel is up (tests wait on it). */
  onOpen?: () => void;
}

/** As on the server: HTTP/2's 64 KiB default window would make large bodies crawl. */
const WINDOW_BYTES = 4 * 1024 * 1024;
const DEFAULT_PING_INTERVAL_MS = 15_000;

/** Serves HTTP/2 on `socket` until it closes (or `signal` aborts). */
function serveOn(socket: Duplex, options: TunnelOptions): Promise<void> {
  return new Promise((resolve) => {
    const server = createH2Server({ settings: { initialWindowSize: WINDOW_BYTES } });
    server.on("stream", (stream, headers) => forwardToJob(stream, headers, options.portOf));
    let ping: NodeJS.Timeout | undefined;
    const end = () => {
      clearInterval(ping);
      options.signal.removeEventListener("abort", end);
      socket.destroy();
      resolve();
    };
    server.on("session", (session) => {
      session.on("error", () => {});
      session.once("close", end);
      session.setLocalWindowSize(WINDOW_BYTES);
      // A ping left unanswered for a whole interval means the path is dead: dial again.
      let pending = false;
      ping = setInterval(() => {
        if (pending) {
          options.log("inference tunnel: the server stopped answering pings, reconnecting");
          session.destroy();
          return;
        }
        pending = true;
        session.ping(() => {
          pending = false;
        });
      }, options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS);
      ping.unref();
    });
    socket.once("close", end);
    socket.on("error", () => {});
    options.signal.addEventListener("abort", end, { once: true });
    server.emit("connection", socket);
  });
}

export async function keepTunnelOpen(options: TunnelOptions): Promise<void> {
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const servers = ServerList.parse(options.serverUrl);
  let failures = 0;
  while (!options.signal.aborted) {
    const serverUrl = servers.current;
    try {
      const socket = await openTunnelSocket({ ...options, serverUrl });
      if (failures > 0) options.log("inference tunnel open again");
      failures = 0;
      options.onOpen?.();
      await serveOn(socket, options);
    } catch (error) {
      if (options.signal.aborted) break;
      servers.failed(serverUrl);
      // The first failure and then ever more rarely, as in the agent's client.
      if ((failures & (failures + 1)) === 0) options.log(`inference tunnel: ${(error as Error).message}`);
      failures++;
    }
    await sleep(backoffDelay(failures, backoff), options.signal);
  }
}
