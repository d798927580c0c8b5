import type { Kysely } from "kysely";
import type { Database } from "../store/schema.js";
import { inTransaction } from "../store/transaction.js";

/** A registered application: what the run calls, which carry neither YAML nor package, launch. */
export interface Registration {
  yamlText: string;
  workspaceSha256: string | null;
  workspaceName: string;
}

/** A registration unused this long is dropped: the run calls follow their registration within seconds. */
const KEEP_MS = 24 * 60 * 60 * 1000;

/**
 * The key a registration is found by: the application's name (updateApplicationFromCli), or
 * the application id and config id a YAML's job_args name (updateApplicationConfigFromCli).
 */
export const byName = (applicationName: string) => `name:${applicationName}`;
export const byAppId = (applicationId: string, configId: string | null) =>
  configId ? `app:${applicationId}#${configId}` : `app:${applicationId}`;

/**
 * The latest registration per (user, key), in the database: the calls of one launch may each
 * reach a different server replica.
 */
export async function saveRegistration(
  db: Kysely<Database>,
  ownerId: number,
  keys: readonly string[],
  reg: Registration,
  now: number,
): Promise<void> {
  await inTransaction(db, async (trx) => {
    await trx
      .deleteFrom("wire_registrations")
      .where("created_at", "<", now - KEEP_MS)
      .execute();
    await trx
      .deleteFrom("wire_registrations")
      .where("owner_id", "=", ownerId)
      .where("app_key", "in", [...keys])
      .execute();
    await trx
      .insertInto("wire_registrations")
      .values(
        keys.map((app_key) => ({
          owner_id: ownerId,
          app_key,
          yaml_text: reg.yamlText,
          workspace_sha256: reg.workspaceSha256,
          workspace_name: reg.workspaceName,
          created_at: now,
        })),
      )
      .execute();
  });
}

export async function findRegistration(db: Kysely<Database>, ownerId: number, key: string): Promise<Registration | undefined> {
  const row = await db
    .selectFrom("wire_registrations")
    .select(["yaml_text", "workspace_sha256", "workspace_name"])
    .where("owner_id", "=", ownerId)
    .where("app_key", "=", key)
    .executeTakeFirst();
  return row && { yamlText: row.yaml_text, workspaceSha256: row.workspace_sha256, workspaceName: row.workspace_name };
}
