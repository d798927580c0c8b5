import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { FedmlError, ResultCode, type UserModel, fromMicros } from "@fedml/core";
import type { FastifyPluginAsync } from "fastify";
import { requireAdmin, requireUser, userOf } from "../auth/guard.js";
import { hashSecret, newApiKey } from "../auth/keys.js";
import type { ServerContext } from "../context.js";
import { apiKeysTopic } from "../notify.js";
import {
  type UserRow,
  countActiveKeysPerUser,
  deleteApiKeys,
  findUserByName,
  insertApiKey,
  insertUser,
  listUsers,
  replaceApiKeys,
  setUserDisabled,
} from "../store/users.js";
import {
  CreateUserRequestSchema,
  CreateUserResponseSchema,
  DisableUserRequestSchema,
  ErrorBodySchema,
  RevokeKeysResponseSchema,
  RotateKeyRequestSchema,
  UserListSchema,
  UserNameParams,
  UserSchema,
  authErrors,
} from "./schemas.js";

const DAY_MS = 24 * 60 * 60 * 1000;

export function toUserModel(user: UserRow): UserModel {
  return {
    userId: String(user.id),
    name: user.name,
    isAdmin: user.is_admin === 1,
    createdTime: user.created_at,
    disabled: user.disabled === 1,
  };
}

/** After a change that may refuse keys accepted so far: every replica forgets the keys it remembered. */
function forgetKeys(ctx: ServerContext): void {
  ctx.hub.notify(apiKeysTopic);
}

function expiryOf(now: number, expiresInDays: number | undefined): number | null {
  return expiresInDays === undefined ? null : now + Math.round(expiresInDays * DAY_MS);
}

async function namedUser(ctx: ServerContext, name: string): Promise<UserRow> {
  const user = await findUserByName(ctx.db, name);
  if (!user) throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `user ${name} not found`, 404);
  return user;
}

export function userRoutes(ctx: ServerContext): FastifyPluginAsync {
  return async (plain) => {
    const app = plain.withTypeProvider<TypeBoxTypeProvider>();
    const adminOnly = requireAdmin(ctx);
    const adminErrors = { 403: ErrorBodySchema, ...authErrors };

    app.get(
      "/me",
      { preHandler: requireUser(ctx), schema: { tags: ["users"], response: { 200: UserSchema, ...authErrors } } },
      async (request) => toUserModel(userOf(request)),
    );

    app.get(
      "/users",
      {
        preHandler: adminOnly,
        schema: { tags: ["users"], response: { 200: UserListSchema, 403: ErrorBodySchema, ...authErrors } },
      },
      async () => {
        const keys = await countActiveKeysPerUser(ctx.db, ctx.now());
        const users = await listUsers(ctx.db);
        return {
          userList: users.map((u) => ({
            ...toUserModel(u),
            balance: fromMicros(u.credit_balance_micros),
            activeKeys: keys.get(u.id) ?? 0,
          })),
        };
      },
    );

    app.post(
      "/users",
      {
        preHandler: adminOnly,
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
        await insertApiKey(ctx.db, user.id, hashSecret(apiKey), now, expiryOf(now, request.body.expiresInDays));
        return { user: toUserModel(user), apiKey };
      },
    );

    app.post(
      "/users/:name/rotate",
      {
        preHandler: adminOnly,
        schema: {
          tags: ["users"],
          params: UserNameParams,
          body: RotateKeyRequestSchema,
          response: { 200: CreateUserResponseSchema, ...adminErrors },
        },
      },
      async (request) => {
        const user = await namedUser(ctx, request.params.name);
        const now = ctx.now();
        const apiKey = newApiKey();
        await replaceApiKeys(ctx.db, user.id, hashSecret(apiKey), now, expiryOf(now, request.body?.expiresInDays));
        forgetKeys(ctx);
        return { user: toUserModel(user), apiKey };
      },
    );

    app.post(
      "/users/:name/revoke",
      {
        preHandler: adminOnly,
        schema: { tags: ["users"], params: UserNameParams, response: { 200: RevokeKeysResponseSchema, ...adminErrors } },
      },
      async (request) => {
        const user = await namedUser(ctx, request.params.name);
        const revoked = await deleteApiKeys(ctx.db, user.id);
        forgetKeys(ctx);
        return { revoked };
      },
    );

    app.post(
      "/users/:name/disable",
      {
        preHandler: adminOnly,
        schema: {
          tags: ["users"],
          params: UserNameParams,
          body: DisableUserRequestSchema,
          response: { 200: UserSchema, ...adminErrors },
        },
      },
      async (request) => {
        const user = await namedUser(ctx, request.params.name);
        const disabled = request.body?.disabled ?? true;
        if (disabled && user.id === userOf(request).id) {
          throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "an admin cannot disable themselves", 400);
        }
        const updated = await setUserDisabled(ctx.db, user.id, disabled);
        forgetKeys(ctx);
        return toUserModel(updated ?? user);
      },
    );
  };
}
