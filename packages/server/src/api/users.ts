import { type CreateUserRequest, FedmlError, ResultCode, type UserModel } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { requireAdmin, requireUser, userOf } from "../auth/guard.js";
import { hashSecret, newApiKey } from "../auth/keys.js";
import type { ServerContext } from "../context.js";
import { type UserRow, insertApiKey, insertUser, listUsers } from "../store/users.js";
import {
  CreateUserRequestSchema,
  CreateUserResponseSchema,
  ErrorBodySchema,
  UserListSchema,
  UserSchema,
  authErrors,
} from "./schemas.js";

export function toUserModel(user: UserRow): UserModel {
  return { userId: String(user.id), name: user.name, isAdmin: user.is_admin === 1, createdTime: user.created_at };
}

export function userRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (app) => {
    app.get(
      "/me",
      { preHandler: requireUser(ctx), schema: { tags: ["users"], response: { 200: UserSchema, ...authErrors } } },
      async (request) => toUserModel(userOf(request)),
    );

    app.get(
      "/users",
      {
        preHandler: requireAdmin(ctx),
        schema: { tags: ["users"], response: { 200: UserListSchema, 403: ErrorBodySchema, ...authErrors } },
      },
      async () => ({ userList: (await listUsers(ctx.db)).map(toUserModel) }),
    );

    app.post<{ Body: CreateUserRequest }>(
      "/users",
      {
        preHandler: requireAdmin(ctx),
        schema: {
          tags: ["users"],
          body: CreateUserRequestSchema,
          response: { 200: CreateUserResponseSchema, 403: ErrorBodySchema, 409: ErrorBodySchema, ...authErrors },
        },
      },
      async (request) => {
        const now = ctx.now();
        const user = await insertUser(ctx.db, request.body.name, request.body.isAdmin === true, now);
        if (!user) {
          throw new FedmlError(
            ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
            `user ${request.body.name} already exists`,
            409,
          );
        }
        const apiKey = newApiKey();
        await insertApiKey(ctx.db, user.id, hashSecret(apiKey), now);
        return { user: toUserModel(user), apiKey };
      },
    );
  };
}
