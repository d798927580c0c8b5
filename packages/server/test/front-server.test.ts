// The server's connections: an idle keep-alive connection closes after the keep-alive timeout,
// and a request held longer than that (an agent's long poll) is never cut by it.
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type AddressInfo, type Socket, connect } from "node:net";
import { test } from "node:test";
import type { FastifyServerOptions } from "fastify";
import { frontServerFactory } from "../src/api/front-server.js";

const IDLE_MS = 300;

/** `promise`, or a failure naming `what` after 10 s. */
function within<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within 10 s`)), 10_000);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

function handler(request: IncomingMessage, reply: ServerResponse): void {
  const holdMs = request.url === "/held" ? IDLE_MS * 3 : 0;
  setTimeout(() => reply.end("ok"), holdMs);
}

/** One keep-alive connection: its answers as they come, and when it closed. */
function connection(port: number) {
  const socket: Socket = connect(port, "127.0.0.1");
  let text = "";
  const waiters: (() => void)[] = [];
  socket.on("data", (chunk) => {
    text += chunk.toString("latin1");
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(performance.now())));
  return {
    closed,
    /** Sends a GET and resolves with its whole answer once it is in (a 2-byte body). */
    async get(path: string): Promise<string> {
      const before = text.length;
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      while (!/\r\n\r\nok$/.test(text.slice(before))) {
        await Promise.race([new Promise<void>((r) => waiters.push(r)), closed]);
        if (socket.destroyed && !/\r\n\r\nok$/.test(text.slice(before))) throw new Error("closed before the answer");
      }
      return text.slice(before);
    },
    socket,
  };
}

test("an idle keep-alive connection closes after the timeout; a request held longer is answered, and the connection stays for the next", async () => {
  const server = frontServerFactory(() => undefined)(handler, { keepAliveTimeout: IDLE_MS } as FastifyServerOptions);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const idle = connection(port);
    const head = await idle.get("/");
    assert.equal(head.split("\r\n")[0], "HTTP/1.1 200 OK");
    // The hint Node's own keep-alive timer sends: clients close idle connections first.
    assert.match(head, /\r\nKeep-Alive: timeout=0\r\n/i);
    const answeredAt = performance.now();
    const closedAt = await within("the idle connection closing", idle.closed);
    assert.ok(closedAt - answeredAt >= IDLE_MS - 20, `closed ${(closedAt - answeredAt).toFixed(0)} ms after its answer`);

    const busy = connection(port);
    // Held three times the idle timeout: not cut, and the same connection serves the next request.
    assert.match(await busy.get("/held"), /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(await busy.get("/"), /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(busy.socket.destroyed, false);
    await within("the other connection closing once idle", busy.closed);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
