import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { FedmlError, ResultCode } from "@fedml/core";
import { Type } from "@sinclair/typebox";
import type { FastifyPluginAsync } from "fastify";
import { requireUser, userOf } from "../auth/guard.js";
import type { ServerContext } from "../context.js";
import { toUserModel } from "../api/users.js";
import { ErrorBodySchema, UserSchema, authErrors } from "../api/schemas.js";
import { DASHBOARD_HEADER, sessionCookie, sessionTokenOf } from "./session-cookie.js";
import { SESSION_TTL_MS, endSession, startSession } from "./sessions.js";

const SignInSchema = Type.Object({ apiKey: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });

/**
 * The dashboard's sign-in: POST /session trades an API key for a session cookie, DELETE ends
 * it. The key itself never reaches the browser's storage or a URL.
 */
export function sessionRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const secure = () => ctx.publicUrl().startsWith("https:");
    // Signing in or out from another site's page (login CSRF) is refused: only ours sets the header.
    const ownPage = async (request: { headers: Record<string, unknown> }) => {
      if (request.headers[DASHBOARD_HEADER] !== "1") {
        throw new FedmlError(ResultCode.ERROR, `sign-in and sign-out must carry the ${DASHBOARD_HEADER} header`, 403);
      }
    };

    app.post(
      "/session",
      {
        onRequest: ownPage,
        schema: {
          tags: ["dashboard"],
          body: SignInSchema,
          response: { 200: UserSchema, 401: ErrorBodySchema, 400: ErrorBodySchema },
        },
      },
      async (request, reply) => {
        const started = await startSession(ctx, request.body.apiKey.trim());
        if (!started)
          throw new FedmlError(ResultCode.ERROR, "API key not accepted: check it, or ask an admin for a new one", 401);
        reply.header("set-cookie", sessionCookie(started.token, SESSION_TTL_MS, secure()));
        return toUserModel(started.user);
      },
    );

    app.get(
      "/session",
      { preHandler: requireUser(ctx), schema: { tags: ["dashboard"], response: { 200: UserSchema, ...authErrors } } },
      async (request) => toUserModel(userOf(request)),
    );

    app.delete("/session", { onRequest: ownPage, schema: { tags: ["dashboard"] } }, async (request, reply) => {
      const token = sessionTokenOf(request.headers);
      if (token) await endSession(ctx, token);
      reply.header("set-cookie", sessionCookie("", 0, secure()));
      return reply.status(204).send();
    });
  };
}
