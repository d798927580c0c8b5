/**
 * Opens the tunnel connection: `GET /api/v1/agent/tunnel` with the device token and
 * `Upgrade: fedml-tunnel/1`; resolves with the upgraded socket. A TLS socket is wrapped in a
 * plain Duplex, because node's HTTP/2 server refuses TLS sockets that did not negotiate h2.
 */
import type { IncomingMessage } from "node:http";
import { request as httpRequest } from "node:http";
import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { FedmlError, Paths, ResultCode, TUNNEL_PROTOCOL } from "@fedml/core/contract";

export interface UpgradeOptions {
  serverUrl: string;
  deviceToken: string;
  signal: AbortSignal;
  timeoutMs?: number;
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.once("error", () => resolve(""));
  });
}

/** A Duplex over `socket` that is not a TLSSocket to node (data passes through unchanged). */
function plainDuplex(socket: Socket): Duplex {
  const duplex = new Duplex({
    read: () => socket.resume(),
    write: (chunk, _encoding, done) => socket.write(chunk, done),
    final: (done) => socket.end(done),
    destroy: (error, done) => {
      socket.destroy(error ?? undefined);
      done(error);
    },
  });
  socket.on("data", (chunk) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.once("end", () => duplex.push(null));
  socket.once("close", () => duplex.destroy());
  socket.on("error", (error) => duplex.destroy(error));
  return duplex;
}

export async function openTunnelSocket(options: UpgradeOptions): Promise<Duplex> {
  const url = new URL(`${options.serverUrl.replace(/\/+$/, "")}${Paths.agentTunnel}`);
  const request = url.protocol === "https:" ? (await import("node:https")).request : httpRequest;
  return new Promise<Duplex>((resolve, reject) => {
    const req = request(url, {
      method: "GET",
      headers: { authorization: `Bearer ${options.deviceToken}`, connection: "Upgrade", upgrade: TUNNEL_PROTOCOL },
      signal: options.signal,
      timeout: options.timeoutMs ?? 30_000,
    });
    req.once("timeout", () => req.destroy(new Error("no answer to the tunnel upgrade")));
    req.once("error", reject);
    req.once("upgrade", (_response, socket: Socket, head: Buffer) => {
      if (head.length > 0) socket.unshift(head);
      socket.setNoDelay(true);
      socket.setTimeout(0);
      resolve("encrypted" in socket && socket.encrypted ? plainDuplex(socket) : socket);
    });
    req.once("response", async (response: IncomingMessage) => {
      const text = await readBody(response);
      let message = text.split("\n")[0];
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {}
      const status = response.statusCode ?? 0;
      reject(new FedmlError(ResultCode.ERROR, `the server refused the tunnel: HTTP ${status} ${message}`, status));
    });
    req.end();
  });
}
