import { randomBytes } from "node:crypto";
import type { ServerContext } from "../context.js";
import { hashSecret } from "../auth/keys.js";
import {
  deleteDashboardSession,
  deleteExpiredDashboardSessions,
  insertDashboardSession,
  sessionKeyHash,
} from "../store/dashboard-sessions.js";
import { type UserRow, findUserByKeyHash } from "../store/users.js";

/** How long a dashboard sign-in lasts (the key's own expiry or revocation ends it sooner). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * Signs in with an API key: the browser gets a random token, the store keeps its hash and the
 * key's hash, never the key. Undefined when the key is not accepted.
 */
export async function startSession(ctx: ServerContext, apiKey: string): Promise<{ token: string; user: UserRow } | undefined> {
  const keyHash = hashSecret(apiKey);
  const now = ctx.now();
  const user = await findUserByKeyHash(ctx.db, keyHash, now);
  if (!user) return undefined;
  await deleteExpiredDashboardSessions(ctx.db, now);
  const token = randomBytes(32).toString("base64url");
  await insertDashboardSession(ctx.db, { tokenHash: hashSecret(token), keyHash, now, expiresAt: now + SESSION_TTL_MS });
  return { token, user };
}

/**
 * The user a session token stands for. The key is looked up exactly as a bearer key is, so
 * a revoked, rotated or expired key or a disabled user ends the session at once.
 */
export async function userOfSession(ctx: ServerContext, token: string): Promise<UserRow | undefined> {
  const now = ctx.now();
  const keyHash = await sessionKeyHash(ctx.db, hashSecret(token), now);
  return keyHash === undefined ? undefined : findUserByKeyHash(ctx.db, keyHash, now);
}

export async function endSession(ctx: ServerContext, token: string): Promise<void> {
  await deleteDashboardSession(ctx.db, hashSecret(token));
}
