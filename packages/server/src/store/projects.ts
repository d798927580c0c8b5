import type { Kysely, Selectable } from "kysely";
import { perDatabase } from "./per-database.js";
import type { Database, ProjectsTable } from "./schema.js";

export type ProjectRow = Selectable<ProjectsTable>;

/**
 * Projects already committed, per database, by owner and name. Projects are never deleted nor
 * renamed, so a committed one stays as it is: every launch into a known project skips both
 * statements below.
 */
const committedProjects = perDatabase(() => new Map<string, ProjectRow>());

/** The owner's project of that name, made on first use. */
export async function ensureProject(db: Kysely<Database>, ownerId: number, name: string, now: number): Promise<ProjectRow> {
  const known = committedProjects(db);
  const key = `${ownerId}\u0000${name}`;
  const cached = known.get(key);
  if (cached) return cached;
  const inserted = await db
    .insertInto("projects")
    .values({ owner_id: ownerId, name, created_at: now })
    .onConflict((oc) => oc.columns(["owner_id", "name"]).doNothing())
    .executeTakeFirst();
  const row = await db
    .selectFrom("projects")
    .selectAll()
    .where("owner_id", "=", ownerId)
    .where("name", "=", name)
    .executeTakeFirstOrThrow();
  // Only a row this transaction did not insert is known committed: one it inserted is lost if it rolls back.
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) known.set(key, row);
  return row;
}

/** Project names by id, per database as above; only names read outside a transaction (so committed). */
const committedNames = perDatabase(() => new Map<number, string>());

export async function projectNamesById(db: Kysely<Database>, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const known = committedNames(db);
  const names = new Map<number, string>();
  const missing: number[] = [];
  for (const id of new Set(ids)) {
    const name = known.get(id);
    if (name === undefined) missing.push(id);
    else names.set(id, name);
  }
  if (missing.length === 0) return names;
  const rows = await db.selectFrom("projects").select(["id", "name"]).where("id", "in", missing).execute();
  for (const row of rows) {
    names.set(row.id, row.name);
    if (!db.isTransaction) known.set(row.id, row.name);
  }
  return names;
}
