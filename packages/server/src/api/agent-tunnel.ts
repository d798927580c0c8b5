/**
 * `GET /api/v1/agent/tunnel` with `Upgrade: fedml-tunnel/1`: an agent hands this server the
 * connection that inference requests for its serving jobs travel down (core tunnel.ts). It is an
 * HTTP upgrade, so it is handled on the node server before fastify's routing.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";
import { FedmlError, Paths, ResultCode, TUNNEL_PROTOCOL } from "@fedml/core";
import { deviceOfAuthorization } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { errorBody } from "./errors.js";

function refuse(socket: Socket, status: number, code: number, message: string): void {
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : status === 404 ? "Not Found" : "Bad Request"}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

async function accept(ctx: ServerContext, request: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
  const path = (request.url ?? "").split("?")[0];
  if (path !== Paths.agentTunnel) return refuse(socket, 404, ResultCode.ERROR, `no upgrade route ${path}`);
  if (String(request.headers.upgrade).toLowerCase() !== TUNNEL_PROTOCOL) {
    return refuse(socket, 400, ResultCode.ERROR, `${Paths.agentTunnel} upgrades only to ${TUNNEL_PROTOCOL}`);
  }
  let deviceId: number;
  try {
    deviceId = (await deviceOfAuthorization(ctx, request.headers.authorization)).id;
  } catch (error) {
    const refused = error instanceof FedmlError ? error : new FedmlError(ResultCode.ERROR, (error as Error).message, 500);
    return refuse(socket, refused.httpStatus ?? 401, refused.resultCode, refused.message);
  }
  if (socket.destroyed) return;
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: ${TUNNEL_PROTOCOL}\r\n\r\n`);
  if (head.length > 0) socket.unshift(head);
  ctx.tunnels.attach(deviceId, socket);
}

/** Answers upgrade requests on `server`: agents' tunnels; anything else is refused. */
export function acceptAgentTunnels(ctx: ServerContext, server: Server): void {
  server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    accept(ctx, request, socket, head).catch(() => socket.destroy());
  });
}
