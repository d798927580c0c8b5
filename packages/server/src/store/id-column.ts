import type { Kysely } from "kysely";
import type { DialectName } from "./db.js";

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists.
type TableBuilder = ReturnType<Kysely<any>["schema"]["createTable"]>;

/** The integer primary key every table but the join tables has: the one dialect switch of ids. */
export function idColumn(table: TableBuilder, dialect: DialectName): TableBuilder {
  return dialect === "postgres"
    ? table.addColumn("id", "serial", (c) => c.primaryKey())
    : table.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
}
