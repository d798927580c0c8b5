/**
 * The one place the SDK touches the network. Non-2xx answers become FedmlError with the
 * server's result code and one-line message; an unreachable server becomes a FedmlError too.
 *
 * `serverUrl` may name several replicas of one server (`http://a:8732,http://b:8732`): a call
 * uses the one that answered last and moves to the next when it stops answering (refused,
 * no answer in time, 502/503/504). Reads (GET, HEAD) and content-addressed uploads (PUT) are
 * also retried with backoff; other calls move on only when the server surely did not act on
 * them (the connection was refused, or it answered 503), so a launch is never sent twice.
 */
import {
  type ErrorBody,
  FedmlError,
  ResultCode,
  ServerList,
  backoffDelay,
  isFailoverStatus,
  sleep,
  surelyNotSent,
} from "@fedml/core";

export interface Endpoint {
  /** One server URL, or several replicas' separated by commas. */
  serverUrl: string;
  apiKey: string | null;
}

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON unless it is a Buffer/Uint8Array (sent as-is with `contentType`). */
  body?: unknown;
  contentType?: string;
  /** Result code for "cannot reach the server": 10 for launches, 20 (ERROR) otherwise. */
  unreachableCode?: number;
  signal?: AbortSignal;
  /**
   * How long to wait for an answer. Default 30 s, plus the long-poll's `waitMs` when the
   * query carries one; 10 minutes for an upload.
   */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const UPLOAD_TIMEOUT_MS = 10 * 60_000;
/** Passes over the server list a repeatable call makes before giving up. */
const REPEATABLE_ROUNDS = 3;
const RETRY_BACKOFF = { initialMs: 250, maxMs: 2_000 };
const REPEATABLE = new Set(["GET", "HEAD", "PUT"]);

/** One list per configured value, kept for the process: the replica that works stays in use. */
const serverLists = new Map<string, ServerList>();

export function serverListFor(serverUrl: string): ServerList {
  let list = serverLists.get(serverUrl);
  if (!list) {
    try {
      list = ServerList.parse(serverUrl);
    } catch (err) {
      throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `server URL: ${(err as Error).message}`);
    }
    serverLists.set(serverUrl, list);
  }
  return list;
}

export function buildUrl(serverUrl: string, path: string, query?: Record<string, QueryValue>): string {
  const url = new URL(path, `${serverUrl.replace(/\/+$/, "")}/`);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

function timeoutOf(options: RequestOptions): number {
  if (options.timeoutMs !== undefined) return options.timeoutMs;
  if (options.body instanceof Uint8Array) return UPLOAD_TIMEOUT_MS;
  const waitMs = Number(options.query?.waitMs ?? 0);
  return DEFAULT_TIMEOUT_MS + (Number.isFinite(waitMs) && waitMs > 0 ? waitMs : 0);
}

/**
 * Low level: answers the Response for any HTTP status (after failing over on 502/503/504 while
 * another replica is left to try); throws only when no server could be reached.
 */
export async function send(method: string, path: string, endpoint: Endpoint, options: RequestOptions = {}): Promise<Response> {
  const servers = serverListFor(endpoint.serverUrl);
  const headers: Record<string, string> = {};
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
  let body: RequestInit["body"];
  if (options.body instanceof Uint8Array) {
    headers["content-type"] = options.contentType ?? "application/octet-stream";
    body = options.body;
  } else if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const repeatable = REPEATABLE.has(method);
  const timeoutMs = timeoutOf(options);
  const tries = (repeatable ? REPEATABLE_ROUNDS : 1) * servers.urls.length;
  let failure = "";
  for (let attempt = 0; attempt < tries; attempt++) {
    if (attempt > 0 && attempt % servers.urls.length === 0) {
      await sleep(backoffDelay(attempt / servers.urls.length - 1, RETRY_BACKOFF), options.signal);
    }
    options.signal?.throwIfAborted();
    const serverUrl = servers.current;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(buildUrl(serverUrl, path, options.query), { method, headers, body, signal });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      const cause = describeCause(err, timeoutMs);
      failure = `cannot reach the FedML server at ${servers.urls.length > 1 ? servers.toString() : serverUrl}: ${cause}`;
      if (!repeatable && !surelyNotSent(cause)) break;
      // One server that does not answer in time is not asked again and again.
      if ((err as Error).name === "TimeoutError" && servers.urls.length === 1) break;
      servers.failed(serverUrl);
      continue;
    }
    const last = attempt === tries - 1;
    if (!last && isFailoverStatus(response.status) && (repeatable || response.status === 503)) {
      await response.body?.cancel();
      servers.failed(serverUrl);
      continue;
    }
    return response;
  }
  throw new FedmlError(options.unreachableCode ?? ResultCode.ERROR, failure);
}

/** JSON request; answers the parsed body (null for an empty one) or throws the server's error. */
export async function request<T>(method: string, path: string, endpoint: Endpoint, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, endpoint, options);
  if (!response.ok) throw await errorFromResponse(method, path, response);
  const text = await response.text();
  return (text === "" ? null : JSON.parse(text)) as T;
}

export async function errorFromResponse(method: string, path: string, response: Response): Promise<FedmlError> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as Partial<ErrorBody>;
    if (typeof body.resultCode === "number" && typeof body.error === "string") {
      return new FedmlError(body.resultCode, oneLine(body.error), response.status);
    }
  } catch {
    // not an ErrorBody: fall through to a generic message
  }
  return new FedmlError(
    ResultCode.ERROR,
    `the FedML server answered HTTP ${response.status} to ${method} ${path}${text ? `: ${oneLine(text).slice(0, 200)}` : ""}`,
    response.status,
  );
}

function describeCause(err: unknown, timeoutMs: number): string {
  if ((err as Error).name === "TimeoutError") return `no answer in ${timeoutMs / 1000} s`;
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return oneLine(cause.message);
  return oneLine(err instanceof Error ? err.message : String(err));
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
