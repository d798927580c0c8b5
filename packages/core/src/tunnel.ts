/**
 * The inference tunnel between an agent and the server. The agent dials the server (it may sit
 * behind NAT and never listens for it): `GET /api/v1/agent/tunnel` with its device token and
 * `Upgrade: fedml-tunnel/1`; after the 101 answer the connection carries HTTP/2 with the roles
 * reversed: the server is the client and sends each proxied inference request down it, the
 * agent forwards it to 127.0.0.1 on the port it gave that run's serving job, and nowhere else.
 * HTTP/2 gives one connection many streams, bodies streamed both ways, and per-stream flow
 * control (a slow reader holds back its writer, never memory).
 */

export const TUNNEL_PROTOCOL = "fedml-tunnel/1";

export const TunnelHeader = {
  /** Server -> agent: which of the agent's runs the request is for. */
  RUN_ID: "x-fedml-run-id",
  /** Server -> job: the endpoint the request came in on. */
  ENDPOINT_ID: "x-fedml-endpoint-id",
  /**
   * Agent -> server, on a 502 of the agent's own: `connect` when the job did not take the
   * request (its port refused the connection, a kept-alive connection to it was already
   * closed, or the run no longer serves on this device).
   */
  ERROR: "x-fedml-tunnel-error",
} as const;

/** The agent's 502 when the job did not take the request (an idempotent one may be retried elsewhere). */
export const TUNNEL_CONNECT_ERROR = "connect";

/** Headers that describe one hop, not the message: HTTP/2 forbids them and proxies drop them. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
  "http2-settings",
  "host",
]);

type Headers = Record<string, string | string[] | number | undefined>;

/**
 * The headers a hop passes on: no hop-by-hop ones (nor those the Connection header names), no
 * HTTP/2 pseudo-headers, none in `dropped`.
 */
export function endToEndHeaders(headers: Headers, dropped: ReadonlySet<string> = new Set()): Record<string, string | string[]> {
  const named = String(headers.connection ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0);
  const out: Record<string, string | string[]> = {};
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    if (value === undefined || name.startsWith(":") || HOP_BY_HOP.has(name) || dropped.has(name) || named.includes(name))
      continue;
    out[name] = typeof value === "number" ? String(value) : value;
  }
  return out;
}
