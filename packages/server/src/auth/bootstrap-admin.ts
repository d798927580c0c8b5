import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Kysely } from "kysely";
import { hasAdmin, insertApiKey, insertUser } from "../store/users.js";
import type { Database } from "../store/schema.js";
import { hashSecret, newApiKey } from "./keys.js";

export const ADMIN_NAME = "admin";

/**
 * First start: make the admin user and hand its key over through a 0600 file (never the
 * log). Answers the file's path when a key was written.
 */
export async function ensureAdmin(db: Kysely<Database>, serverDir: string, now: number): Promise<string | null> {
  if (await hasAdmin(db)) return null;
  const user = await insertUser(db, ADMIN_NAME, true, now);
  if (!user) throw new Error(`user ${ADMIN_NAME} exists but is not an admin: make one an admin in the database`);
  const key = newApiKey();
  await insertApiKey(db, user.id, hashSecret(key), now);
  mkdirSync(serverDir, { recursive: true });
  const file = join(serverDir, "admin-key");
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
