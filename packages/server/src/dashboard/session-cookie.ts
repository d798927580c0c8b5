import type { IncomingHttpHeaders } from "node:http";

/** The dashboard's session cookie: httpOnly (no script reads it), SameSite=Strict (no other site sends it). */
export const SESSION_COOKIE = "fedml_session";

/**
 * The header the dashboard sends with every call. A cookie-authenticated request that changes
 * state must carry it: another site's form cannot set a custom header, and a script there
 * could only with a CORS preflight, which this server never grants.
 */
export const DASHBOARD_HEADER = "x-fedml-dashboard";

/** The session token in a Cookie header, or null. */
export function sessionTokenOf(headers: IncomingHttpHeaders): string | null {
  const header = headers.cookie;
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{16,128}$/.test(value) ? value : null;
    }
  }
  return null;
}

/** Set-Cookie for a new session (maxAgeMs > 0) or for ending one (0). */
export function sessionCookie(token: string, maxAgeMs: number, secure: boolean): string {
  const attributes = [
    `${SESSION_COOKIE}=${token}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${Math.floor(maxAgeMs / 1000)}`,
  ];
  if (secure) attributes.push("Secure");
  return attributes.join("; ");
}
