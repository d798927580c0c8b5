/**
 * The one place the SDK touches the network. Non-2xx answers become FedmlError with the
 * server's result code and one-line message; an unreachable server becomes a FedmlError too.
 */
import { type ErrorBody, FedmlError, ResultCode } from "@fedml/core";

export interface Endpoint {
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
}

export function buildUrl(serverUrl: string, path: string, query?: Record<string, QueryValue>): string {
  const url = new URL(path, `${serverUrl.replace(/\/+$/, "")}/`);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  return url.toString();
}

/** Low level: answers the Response for any HTTP status; throws only when the server cannot be reached. */
export async function send(method: string, path: string, endpoint: Endpoint, options: RequestOptions = {}): Promise<Response> {
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
  try {
    return await fetch(buildUrl(endpoint.serverUrl, path, options.query), { method, headers, body, signal: options.signal });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new FedmlError(
      options.unreachableCode ?? ResultCode.ERROR,
      `cannot reach the FedML server at ${endpoint.serverUrl}: ${describeCause(err)}`,
    );
  }
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

function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return oneLine(cause.message);
  return oneLine(err instanceof Error ? err.message : String(err));
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
