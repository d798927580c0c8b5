import type { IncomingHttpHeaders } from "node:http";
import { FedmlError, ResultCode } from "@fedml/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ServerContext } from "../context.js";
import type { DeviceIdentity } from "../store/devices.js";
import type { UserRow } from "../store/users.js";
import { DASHBOARD_HEADER, sessionTokenOf } from "../dashboard/session-cookie.js";
import { userOfSession } from "../dashboard/sessions.js";
import { hashSecret } from "./keys.js";

declare module "fastify" {
  interface FastifyRequest {
    user: UserRow | null;
    device: DeviceIdentity | null;
  }
}

/**
 * Declares who a request is for on every request from its construction (null until a guard
 * sets it), as fastify asks of decorations. Set only by the guards, these properties gave
 * requests of user routes, agent routes and open routes three shapes: V8's optimised request
 * path (fastify's handler, hooks, validation, logger) met all three and was deoptimised and
 * compiled again, dozens of times over thousands of jobs. Call before any route.
 */
export function declareRequestIdentity(app: FastifyInstance): void {
  app.decorateRequest("user", null);
  app.decorateRequest("device", null);
}

function bearerOf(header: string | undefined): string | null {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match ? match[1] : null;
}

function rejected(ctx: ServerContext): FedmlError {
  return new FedmlError(ResultCode.ERROR, `API key not accepted by ${ctx.publicUrl()}: check it or run fedml login`, 401);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * preHandler for client routes: the bearer key must be a user's API key (looked up through
 * ctx.keys, which remembers acceptances briefly: auth/key-cache.ts); without an Authorization
 * header, the dashboard's session cookie stands for the key it was opened with. Every route
 * thus answers the dashboard exactly as it answers the key.
 */
export function requireUser(ctx: ServerContext) {
  return async (request: FastifyRequest): Promise<void> => {
    request.user = await userOfHeaders(ctx, request.method, request.headers);
  };
}

/** requireUser's check on a bare request (for a path served outside fastify's routing). */
export async function userOfHeaders(ctx: ServerContext, method: string, headers: IncomingHttpHeaders): Promise<UserRow> {
  if (headers.authorization !== undefined) {
    const key = bearerOf(headers.authorization);
    const user = key ? await ctx.keys.userOfKey(hashSecret(key)) : undefined;
    if (!user) throw rejected(ctx);
    return user;
  }
  const token = sessionTokenOf(headers);
  const user = token ? await userOfSession(ctx, token) : undefined;
  if (!user) throw rejected(ctx);
  // A browser sends the cookie with any site's form post: only our own page sets this header.
  if (!SAFE_METHODS.has(method) && headers[DASHBOARD_HEADER] !== "1") {
    throw new FedmlError(ResultCode.ERROR, `a request signed in by cookie must carry the ${DASHBOARD_HEADER} header`, 403);
  }
  return user;
}

export function requireAdmin(ctx: ServerContext) {
  const userCheck = requireUser(ctx);
  return async (request: FastifyRequest): Promise<void> => {
    await userCheck(request);
    assertAdmin(userOf(request));
  };
}

/** For routes open to every user where one option (e.g. every user's rows) is for admins only. */
export function assertAdmin(user: UserRow): void {
  if (user.is_admin !== 1) throw new FedmlError(ResultCode.ERROR, `user ${user.name} is not an admin`, 403);
}

/** preHandler for agent routes: the bearer must be a bound device's token. */
export function requireDevice(ctx: ServerContext) {
  return async (request: FastifyRequest): Promise<void> => {
    request.device = await deviceOfAuthorization(ctx, request.headers.authorization);
  };
}

/** The bound device whose token an Authorization header carries (also for requests outside fastify's routing). */
export async function deviceOfAuthorization(ctx: ServerContext, header: string | undefined): Promise<DeviceIdentity> {
  const token = bearerOf(header);
  const device = token ? await ctx.deviceTokens.deviceOf(hashSecret(token)) : undefined;
  if (!device) {
    throw new FedmlError(
      ResultCode.ERROR,
      `device token not accepted by ${ctx.publicUrl()}: the device was removed or re-bound; bind it again`,
      401,
    );
  }
  return device;
}

/** The authenticated user (after requireUser). */
export function userOf(request: FastifyRequest): UserRow {
  if (!request.user) throw new Error("route is missing requireUser");
  return request.user;
}

export function deviceOf(request: FastifyRequest): DeviceIdentity {
  if (!request.device) throw new Error("route is missing requireDevice");
  return request.device;
}
