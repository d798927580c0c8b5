import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

/**
 * A value kept per database, made from it on first use. Keyed by the database's kysely adapter,
 * which its transactions share, so a transaction finds the value its database holds; a
 * closed database's value goes with it.
 */
export function perDatabase<T>(make: (db: Kysely<Database>) => T): (db: Kysely<Database>) => T {
  const values = new WeakMap<object, T>();
  return (db) => {
    const adapter = db.getExecutor().adapter;
    let value = values.get(adapter);
    if (value === undefined) {
      value = make(db);
      values.set(adapter, value);
    }
    return value;
  };
}
