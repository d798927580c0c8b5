/**
 * One request arriving through the tunnel, forwarded to this machine's serving job: only to
 * 127.0.0.1 and only on the port the agent gave the run the request names. Bodies are piped
 * both ways.
 */
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { constants as h2, type IncomingHttpHeaders as H2Headers, type ServerHttp2Stream } from "node:http2";
import { TUNNEL_CONNECT_ERROR, TunnelHeader, endToEndHeaders, relay } from "@fedml/core/contract";

/** Keep-alive to the jobs: a new TCP connection per request would cost more than the tunnel hop. */
const jobAgent = new HttpAgent({ keepAlive: true, maxFreeSockets: 64 });

/** The port this agent gave run `runId`'s serving job, while that run is active here. */
export type ServingPortOf = (runId: string) => number | null;

const DROPPED = new Set<string>([TunnelHeader.RUN_ID]);

function answerError(stream: ServerHttp2Stream, status: number, message: string, extra: Record<string, string> = {}): void {
  if (stream.destroyed || stream.headersSent) {
    stream.close(h2.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond({ [h2.HTTP2_HEADER_STATUS]: status, "content-type": "application/json; charset=utf-8", ...extra });
  stream.end(JSON.stringify({ resultCode: -1, resultMsg: "ERROR", error: message }));
}

export function forwardToJob(stream: ServerHttp2Stream, headers: H2Headers, portOf: ServingPortOf): void {
  const runId = String(headers[TunnelHeader.RUN_ID] ?? "");
  const port = portOf(runId);
  if (port === null) {
    // Nothing was sent to any job (the run just ended here): the server may try another replica.
    answerError(stream, 502, `run ${runId} serves nothing on this device`, { [TunnelHeader.ERROR]: TUNNEL_CONNECT_ERROR });
    return;
  }
  const jobHeaders = endToEndHeaders(headers, DROPPED);
  jobHeaders.host = `127.0.0.1:${port}`;
  const upstream = httpRequest({
    host: "127.0.0.1",
    port,
    method: String(headers[h2.HTTP2_HEADER_METHOD] ?? "GET"),
    path: String(headers[h2.HTTP2_HEADER_PATH] ?? "/"),
    headers: jobHeaders,
    agent: jobAgent,
  });
  let connected = false;
  upstream.once("socket", (socket) => {
    if (!socket.connecting) connected = true;
    else socket.once("connect", () => (connected = true));
  });
  upstream.on("response", (answer) => {
    if (stream.destroyed) {
      answer.destroy();
      return;
    }
    const answerHeaders: H2Headers = endToEndHeaders(answer.headers);
    answerHeaders[h2.HTTP2_HEADER_STATUS] = String(answer.statusCode ?? 502);
    stream.respond(answerHeaders);
    relay(answer, stream);
    answer.once("error", () => stream.close(h2.NGHTTP2_INTERNAL_ERROR));
  });
  upstream.on("error", (error) => {
    // Refused before anything was sent, or a kept-alive connection the job had already closed
    // (it died): the server may retry an idempotent request on another replica.
    const notTaken = !connected || upstream.reusedSocket;
    const extra: Record<string, string> = notTaken ? { [TunnelHeader.ERROR]: TUNNEL_CONNECT_ERROR } : {};
    answerError(stream, 502, `the serving job of run ${runId} did not answer on port ${port}: ${error.message}`, extra);
  });
  stream.once("close", () => {
    if (!upstream.writableFinished || stream.rstCode !== h2.NGHTTP2_NO_ERROR) upstream.destroy();
  });
  stream.on("error", () => upstream.destroy());
  relay(stream, upstream);
}
