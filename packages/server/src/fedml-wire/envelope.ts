import { FedmlError, ResultMessage } from "@fedml/core";

/** The official client's answer: always HTTP 200; `code` says whether the call worked. */
export interface WireEnvelope {
  code: "SUCCESS" | "FAILURE";
  message: string;
  data: unknown;
  /** Ours: the native result code behind a FAILURE (the client ignores unknown fields). */
  resultCode?: number;
}

export function success(data: unknown, message = "Succeeded"): WireEnvelope {
  return { code: "SUCCESS", message, data };
}

export function failure(message: string, resultCode?: number): WireEnvelope {
  const line = message.split("\n")[0];
  return resultCode === undefined
    ? { code: "FAILURE", message: line, data: null }
    : { code: "FAILURE", message: `${ResultMessage[resultCode] ?? "ERROR"}: ${line}`, data: null, resultCode };
}

/**
 * Any error of a wire route as a FAILURE envelope. Our own FedmlErrors keep their message and
 * code; fastify's (a body that is not JSON, too large) keep their message; anything else is a
 * fault of ours and says so without leaking internals.
 */
export function failureOf(err: unknown): { envelope: WireEnvelope; internal: boolean } {
  if (err instanceof FedmlError) return { envelope: failure(err.message, err.resultCode), internal: false };
  const e = err as { statusCode?: number; message?: string };
  if (typeof e?.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return { envelope: failure(`invalid request: ${e.message ?? "rejected"}`), internal: false };
  }
  return { envelope: failure("internal server error: see the server log"), internal: true };
}
