/**
 * The dashboard's one way to the server: the API's own routes under /api/v1, authorised by the
 * session cookie (sent by the browser, unreadable to scripts) and marked with the header the
 * server requires of cookie-signed calls that change state.
 */
export const API_PREFIX = "/api/v1";
export const DASHBOARD_HEADER = "x-fedml-dashboard";

/** A refused or failed call: the HTTP status and the server's one-line message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly resultCode?: number,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | undefined>;

export interface CallOptions {
  query?: Query;
  /** A JSON body, or raw bytes (sent as application/octet-stream). */
  body?: unknown;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

const signedOutListeners = new Set<() => void>();

/** Called when any call answers 401: the session ended (signed out elsewhere, key revoked). */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export function apiUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") params.set(k, String(v));
  const qs = params.toString();
  return `${API_PREFIX}${path}${qs ? `?${qs}` : ""}`;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { [DASHBOARD_HEADER]: "1", ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof Blob || options.body instanceof ArrayBuffer || options.body instanceof Uint8Array) {
    headers["content-type"] ??= "application/octet-stream";
    body = options.body as BodyInit;
  } else if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  const response = await fetch(apiUrl(path, options.query), {
    method,
    headers,
    body,
    signal: options.signal,
    credentials: "same-origin",
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed = text ? safeJson(text) : undefined;
  if (!response.ok) {
    if (response.status === 401) for (const l of signedOutListeners) l();
    const message = typeof parsed?.error === "string" ? parsed.error : `${method} ${path}: HTTP ${response.status}`;
    throw new ApiError(response.status, message, typeof parsed?.resultCode === "number" ? parsed.resultCode : undefined);
  }
  return parsed as T;
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export const get = <T>(path: string, options?: CallOptions) => call<T>("GET", path, options);
export const post = <T>(path: string, options?: CallOptions) => call<T>("POST", path, options);
