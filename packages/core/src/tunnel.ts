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

const NONE: ReadonlySet<string> = new Set();

/**
 * The headers a hop passes on: no hop-by-hop ones (nor those the Connection header names), no
 * HTTP/2 pseudo-headers, none in `dropped`. On every proxied request, twice: kept to one pass
 * over the headers.
 */
export function endToEndHeaders(headers: Headers, dropped: ReadonlySet<string> = NONE): Record<string, string | string[]> {
  const connection = headers.connection;
  const named =
    connection === undefined
      ? undefined
      : String(connection)
          .split(",")
          .map((name) => name.trim().toLowerCase());
  const out: Record<string, string | string[]> = {};
  for (const rawName in headers) {
    const value = headers[rawName];
    if (value === undefined || rawName.charCodeAt(0) === 58 /* ":" */) continue;
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP.has(name) || dropped.has(name) || named?.includes(name)) continue;
    out[name] = typeof value === "number" ? String(value) : value;
  }
  return out;
}

/** The least a stream needs to be read from (Readable's). */
interface Source {
  on(event: "data", listener: (chunk: Buffer) => void): unknown;
  once(event: "end", listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** The least a stream needs to be written to (Writable's). */
interface Sink {
  write(chunk: Buffer): boolean;
  end(): unknown;
  once(event: "drain", listener: () => void): unknown;
}

/**
 * Copies `from` into `to` and ends `to`, holding `from` back while `to` is full: what
 * `from.pipe(to)` does, less the listeners pipe adds and removes on every request. Whoever
 * calls it ends both streams when either fails or closes early (the proxy does in any case).
 */
export function relay(from: Source, to: Sink): void {
  const resume = () => from.resume();
  from.on("data", (chunk) => {
    if (!to.write(chunk)) {
      from.pause();
      to.once("drain", resume);
    }
  });
  from.once("end", () => to.end());
}
