import type { Kysely, Selectable } from "kysely";
import type { Database, ProjectsTable } from "./schema.js";

export type ProjectRow = Selectable<ProjectsTable>;

/** The owner's project of that name, made on first use. */
export async function ensureProject(db: Kysely<Database>, ownerId: number, name: string, now: number): Promise<ProjectRow> {
  await db
    .insertInto("projects")
    .values({ owner_id: ownerId, name, created_at: now })
    .onConflict((oc) => oc.columns(["owner_id", "name"]).doNothing())
    .execute();
  return db.selectFrom("projects").selectAll().where("owner_id", "=", ownerId).where("name", "=", name).executeTakeFirstOrThrow();
}

export async function projectNamesById(db: Kysely<Database>, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom("projects")
    .select(["id", "name"])
    .where("id", "in", [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}
