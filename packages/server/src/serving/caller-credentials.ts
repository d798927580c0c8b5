import type { IncomingHttpHeaders } from "node:http";
import { FedmlError, ResultCode } from "@fedml/core";
import { DASHBOARD_HEADER, SESSION_COOKIE, sessionTokenOf } from "../dashboard/session-cookie.js";

/**
 * An inference request signed by the dashboard's session cookie must come from the dashboard's
 * own script (which sends its header), whatever the method: a link that a signed-in browser
 * follows would otherwise render what a job answers as a page of the server's origin, with
 * the user's session, and a job's device is not necessarily the user's.
 */
export function assertDashboardCall(headers: IncomingHttpHeaders): void {
  if (headers.authorization !== undefined || sessionTokenOf(headers) === null) return;
  if (headers[DASHBOARD_HEADER] !== "1") {
    throw new FedmlError(
      ResultCode.ERROR,
      `an inference request signed in by cookie must carry the ${DASHBOARD_HEADER} header (from a script, send the API key instead)`,
      403,
    );
  }
}

/** The headers a job gets: the caller's session cookie and the dashboard's header stay here, as the API key does. */
export function withoutDashboardCredentials(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  // The usual caller (an API key, no cookie): nothing to take out, nothing to copy.
  if (headers.cookie === undefined && headers[DASHBOARD_HEADER] === undefined) return headers;
  const { [DASHBOARD_HEADER]: _marker, cookie, ...rest } = headers;
  const others = (cookie ?? "")
    .split(";")
    .map((c) => c.trim())
    .filter((c) => c !== "" && c.split("=", 1)[0].trim() !== SESSION_COOKIE);
  return others.length > 0 ? { ...rest, cookie: others.join("; ") } : rest;
}
