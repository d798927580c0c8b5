import type { EndpointListResponse } from "@fedml/core";
import { DASHBOARD_HEADER, get } from "./client.js";

/** The caller's live endpoints with their replicas. */
export const listEndpoints = (signal?: AbortSignal) => get<EndpointListResponse>("/endpoints", { signal });

export interface InferenceAnswer {
  status: number;
  contentType: string;
  body: string;
  ms: number;
}

/**
 * One request through the server's inference proxy, signed by the session cookie as the API
 * key signs it elsewhere: whatever the job answers (any status) comes back as it is.
 */
export async function sendInference(endpointId: string, path: string, method: string, body: string): Promise<InferenceAnswer> {
  const started = performance.now();
  const withBody = method !== "GET" && method !== "HEAD";
  const response = await fetch(`/inference/${encodeURIComponent(endpointId)}/${path.replace(/^\/+/, "")}`, {
    method,
    headers: withBody ? { "content-type": "application/json", [DASHBOARD_HEADER]: "1" } : { [DASHBOARD_HEADER]: "1" },
    body: withBody ? body : undefined,
    credentials: "same-origin",
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    body: text,
    ms: Math.round(performance.now() - started),
  };
}
