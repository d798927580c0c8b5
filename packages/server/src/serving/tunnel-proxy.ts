/**
 * One inference request sent down an agent's tunnel and its answer streamed back to the caller.
 * Bodies are piped both ways (HTTP/2 flow control on the tunnel, socket backpressure on the
 * caller's side), never buffered whole.
 */
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { type ClientHttp2Session, constants as h2 } from "node:http2";
import type { Readable } from "node:stream";
import { ResultCode, TUNNEL_CONNECT_ERROR, TunnelHeader, endToEndHeaders, relay } from "@fedml/core";
import { errorBody } from "../api/errors.js";

/** The caller's API key never reaches the job. */
const DROPPED_REQUEST_HEADERS = new Set(["authorization", "x-fedml-via-peer"]);

export interface ProxiedRequest {
  method: string;
  /** Path and query as the job sees them (`/predict?x=1`). */
  path: string;
  headers: IncomingHttpHeaders;
  /** Absent for a request without a body. */
  body?: Readable;
}

export interface TunnelTarget {
  runId: number;
  endpointId: number;
}

/**
 * - `answered`: the job's answer (any status) was streamed to the caller, or the caller went away;
 * - `unreachable`: nothing accepted the connection on the job's port (the caller got nothing yet).
 */
export type TunnelOutcome = "answered" | "unreachable";

export function forwardThroughTunnel(
  session: ClientHttp2Session,
  target: TunnelTarget,
  request: ProxiedRequest,
  reply: ServerResponse,
): Promise<TunnelOutcome> {
  return new Promise((resolve) => {
    const headers = endToEndHeaders(request.headers, DROPPED_REQUEST_HEADERS);
    headers[h2.HTTP2_HEADER_METHOD] = request.method;
    headers[h2.HTTP2_HEADER_PATH] = request.path;
    headers[TunnelHeader.RUN_ID] = String(target.runId);
    headers[TunnelHeader.ENDPOINT_ID] = String(target.endpointId);
    const stream = session.request(headers, { endStream: request.body === undefined });
    let settled = false;
    const settle = (outcome: TunnelOutcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    stream.on("response", (headers) => {
      const status = Number(headers[h2.HTTP2_HEADER_STATUS] ?? 502);
      if (status === 502 && headers[TunnelHeader.ERROR] === TUNNEL_CONNECT_ERROR) {
        stream.close(h2.NGHTTP2_CANCEL);
        settle("unreachable");
        return;
      }
      reply.writeHead(status, endToEndHeaders(headers));
      relay(stream, reply);
      stream.once("end", () => settle("answered"));
    });
    const fail = (why: string) => {
      settle("answered");
      if (reply.headersSent) {
        reply.destroy();
        return;
      }
      const message = `endpoint ${target.endpointId}: the tunnel to its device failed: ${why}`;
      reply.writeHead(502, { "content-type": "application/json; charset=utf-8" });
      reply.end(JSON.stringify(errorBody(ResultCode.ERROR, message)));
    };
    stream.on("error", (error) => fail(error.message));
    // A reset without an error event (the agent cancelled, the tunnel closed) still ends the caller's request.
    stream.on("close", () => {
      if (!settled) fail(`the stream closed early (code ${stream.rstCode ?? "none"})`);
    });
    reply.on("close", () => {
      if (!reply.writableFinished && !stream.destroyed) stream.close(h2.NGHTTP2_CANCEL);
      settle("answered");
    });
    request.body?.on("error", () => stream.close(h2.NGHTTP2_CANCEL));
    if (request.body) relay(request.body, stream);
  });
}
