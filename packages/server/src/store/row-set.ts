/**
 * Many rows handed to one statement as a few parameters of a fixed shape: the statement's
 * text is the same for any number of rows, so it is prepared once (store/statement-cache.ts)
 * instead of once per length, and a thousand ids cost one parameter rather than a thousand
 * (binding and parsing them cost SQLite more than running the query).
 */
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Database } from "./schema.js";
import { isPostgres } from "./transaction.js";

/**
 * The rows a statement reads, named `v` with columns c0, c1, ... in the order of each tuple:
 * unnest over one typed array per column on PostgreSQL, json_each over one JSON array of
 * tuples on SQLite. `pgTypes` names each column's array type (PostgreSQL cannot infer it).
 */
export function rowsOf(
  db: Kysely<Database>,
  pgTypes: readonly string[],
  tuples: readonly (readonly unknown[])[],
): RawBuilder<unknown> {
  if (isPostgres(db)) {
    const columns = pgTypes.map((type, i) => sql`${tuples.map((t) => t[i])}::${sql.raw(type)}[]`);
    const names = pgTypes.map((_, i) => `c${i}`).join(", ");
    return sql`unnest(${sql.join(columns)}) as v(${sql.raw(names)})`;
  }
  const columns = pgTypes.map((_, i) => `value ->> ${i} as c${i}`).join(", ");
  return sql`(select ${sql.raw(columns)} from json_each(${JSON.stringify(tuples)})) as v`;
}

/** Ids as rowsOf's one column c0: `where id in (select c0 from ${idRows(db, ids)})`. */
export function idRows(db: Kysely<Database>, ids: readonly number[]): RawBuilder<unknown> {
  return rowsOf(
    db,
    ["int8"],
    ids.map((id) => [id]),
  );
}
