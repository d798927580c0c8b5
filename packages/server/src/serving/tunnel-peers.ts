/**
 * Inference tunnels across replicas. An agent's tunnel reaches one server process; each
 * process records in the store which devices' tunnels it holds (with the URL its peers reach
 * it at), and a replica without the tunnel hands the request to the one holding it, which
 * sends it down the tunnel. The hand-over is the caller's own request, authorization
 * included, so the holder checks the caller as for any request; a header pins it to the
 * replica already chosen and to the holder's own tunnels (no second hand-over).
 */
import { type IncomingHttpHeaders, type ServerResponse, request as httpRequest } from "node:http";
import type { FastifyBaseLogger } from "fastify";
import type { Kysely } from "kysely";
import { ResultCode, TUNNEL_CONNECT_ERROR, TunnelHeader } from "@fedml/core";
import { errorBody } from "../api/errors.js";
import type { Database } from "../store/schema.js";
import { findTunnelHolder, forgetTunnelHolder, recordTunnelHolder } from "../store/tunnel-holders.js";
import type { TunnelListener } from "./tunnel-hub.js";
import type { ProxiedRequest, TunnelOutcome, TunnelTarget } from "./tunnel-proxy.js";

/** Peer -> holder: the replica (its run id) the peer chose; the holder serves it from its own tunnels only. */
export const VIA_PEER_HEADER = "x-fedml-via-peer";
/** Holder -> peer: the holder has no tunnel to that device after all; nothing was sent. */
export const NO_TUNNEL_HEADER = "x-fedml-no-tunnel";

const HOP_HEADERS = new Set(["host", "connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"]);

/** The run a peer pinned a handed-over request to, or null for a request from a client. */
export function pinnedRun(headers: IncomingHttpHeaders): number | null {
  const value = Number(headers[VIA_PEER_HEADER]);
  return Number.isInteger(value) && value > 0 ? value : null;
}

export class TunnelPeers implements TunnelListener {
  constructor(
    private readonly db: Kysely<Database>,
    /** This process's URL as its peers reach it. */
    private readonly selfUrl: string,
    private readonly now: () => number,
    private readonly log: FastifyBaseLogger,
  ) {}

  held(deviceId: number): void {
    recordTunnelHolder(this.db, deviceId, this.selfUrl, this.now()).catch((err) =>
      this.log.warn({ err, deviceId }, "could not record this server as the holder of the device's tunnel"),
    );
  }

  released(deviceId: number): void {
    forgetTunnelHolder(this.db, deviceId, this.selfUrl).catch((err) =>
      this.log.warn({ err, deviceId }, "could not forget this server as the holder of the device's tunnel"),
    );
  }

  /** The URL of another process holding the device's tunnel, if one does. */
  async peerHolding(deviceId: number): Promise<string | undefined> {
    const url = await findTunnelHolder(this.db, deviceId);
    return url && url !== this.selfUrl ? url : undefined;
  }
}

/**
 * Hands one request to the replica at `peerUrl`. `no-tunnel`: nothing was sent (the peer is
 * gone or no longer holds the tunnel), so any request may go elsewhere.
 */
export function forwardToPeer(
  peerUrl: string,
  target: TunnelTarget,
  request: ProxiedRequest,
  reply: ServerResponse,
): Promise<TunnelOutcome | "no-tunnel"> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: TunnelOutcome | "no-tunnel") => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
    }
    headers[VIA_PEER_HEADER] = String(target.runId);
    const url = new URL(`/inference/${target.endpointId}${request.path}`, peerUrl);
    const out = httpRequest(url, { method: request.method, headers });
    let connected = false;
    out.on("socket", (socket) => {
      const send = () => {
        connected = true;
        if (request.body) request.body.pipe(out);
        else out.end();
      };
      if (socket.connecting) socket.once("connect", send);
      else send();
    });
    out.on("response", (answer) => {
      const status = answer.statusCode ?? 502;
      if (answer.headers[NO_TUNNEL_HEADER] !== undefined) {
        answer.resume();
        settle("no-tunnel");
        return;
      }
      if (status === 502 && answer.headers[TunnelHeader.ERROR] === TUNNEL_CONNECT_ERROR) {
        answer.resume();
        settle("unreachable");
        return;
      }
      const passed: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_HEADERS.has(name)) passed[name] = value;
      }
      reply.writeHead(status, passed);
      answer.pipe(reply);
      answer.once("end", () => settle("answered"));
      answer.once("error", () => {
        reply.destroy();
        settle("answered");
      });
    });
    out.on("error", (error) => {
      // Refused before a byte of the body left: as if there were no tunnel.
      if (!connected) {
        settle("no-tunnel");
        return;
      }
      if (!reply.headersSent) {
        reply.writeHead(502, { "content-type": "application/json; charset=utf-8" });
        const message = `endpoint ${target.endpointId}: the server holding its tunnel failed: ${error.message}`;
        reply.end(JSON.stringify(errorBody(ResultCode.ERROR, message)));
      } else reply.destroy();
      settle("answered");
    });
    reply.on("close", () => {
      if (!reply.writableFinished) out.destroy();
      settle("answered");
    });
  });
}
