/**
 * The HTTP server fastify serves on, with one listener that sees each request first and may
 * serve it itself (the inference proxy: a hop whose every microsecond shows in a caller's
 * latency). The rest goes to fastify. Timeouts are set as fastify sets them on its own server,
 * but for how idle keep-alive connections are closed (idleConnectionsClose).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { Socket } from "node:net";
import type { FastifyServerOptions } from "fastify";

/** Serves a request itself (true) or leaves it to the rest of the server (false). */
export type RequestListener = (request: IncomingMessage, reply: ServerResponse) => boolean;

/** Fastify's default: how long a keep-alive connection may wait for its next request. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export function frontServerFactory(front: () => RequestListener | undefined) {
  return (fastifyHandler: (request: IncomingMessage, reply: ServerResponse) => void, options: FastifyServerOptions): Server => {
    const idleMs = options.connectionTimeout ? 0 : (options.keepAliveTimeout ?? KEEP_ALIVE_TIMEOUT_MS);
    const server = createServer((request, reply) => {
      // The `Keep-Alive: timeout=` hint Node sends when it keeps the timer itself: clients
      // (Node's agent) then close an idle connection before the server does, and never send
      // a request on one the server is closing.
      if (idleMs > 0) (reply as ServerResponse & { _keepAliveTimeout?: number })._keepAliveTimeout = idleMs;
      if (front()?.(request, reply)) return;
      fastifyHandler(request, reply);
    });
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout) server.setTimeout(options.connectionTimeout);
    else idleConnectionsClose(server, idleMs);
    if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}

/**
 * A connection with no request in flight closes after `idleMs` without traffic, as Node's
 * keep-alive timeout would close it. Node's keep-alive timer is a new timer and bound function
 * for every answered request, which an agent's connection then keeps through its next held
 * poll (seconds: V8 promotes them, and they die in the old generation). One inactivity timer
 * per connection, refreshed by its traffic, does the same: when it fires on a connection
 * with a request in flight nothing happens (no request is cut, as before); on an idle one the
 * connection closes.
 */
function idleConnectionsClose(server: Server, idleMs: number): void {
  server.keepAliveTimeout = 0;
  if (idleMs <= 0) return;
  server.timeout = idleMs;
  // A listener here keeps Node from destroying every connection that times out.
  server.on("timeout", (socket: Socket & { _httpMessage?: unknown }) => {
    // The response in progress on the connection (Node's own field; null between requests).
    if (!socket._httpMessage) socket.destroy();
  });
}
