/**
 * One request without retries, for commands a person waits on (bind, unbind). With several
 * server URLs it moves to the next only when the request surely did not reach a server (or
 * one answered 503), so a device is never registered twice.
 */
import { FedmlError, ResultCode, ServerList, surelyNotSent } from "@fedml/core/contract";
import { serverError } from "./client.js";

const TIMEOUT_MS = 30_000;

export async function requestOnce<T>(
  serverUrl: string,
  bearer: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const servers = ServerList.parse(serverUrl);
  let unreachable = "";
  for (const base of servers.urls) {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const e = error as Error & { cause?: { code?: string; message?: string } };
      const why =
        e.name === "TimeoutError" ? `no answer in ${TIMEOUT_MS / 1000} s` : (e.cause?.code ?? e.cause?.message ?? e.message);
      unreachable = `cannot reach the server at ${base}: ${why}`;
      if (surelyNotSent(why)) continue;
      break;
    }
    const text = await response.text();
    if (response.status === 503 && base !== servers.urls[servers.urls.length - 1]) continue;
    if (!response.ok) throw serverError(response.status, text, `${method} ${base}${path}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
  throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_REQUEST_FAILED, unreachable);
}
