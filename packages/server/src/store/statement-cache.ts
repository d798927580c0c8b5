/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running most of
 * our point queries. Kysely compiles the same SQL text for the same query shape, so statements
 * are kept per SQL text (a bounded, least-recently-used set) and reused.
 */
import type { Database as BetterSqlite, Statement } from "better-sqlite3";
import type { SqliteDatabase } from "kysely";

/** Enough for every query shape the server issues; `in (?, ?, …)` lists add one per length. */
const DEFAULT_CAPACITY = 500;

export function cachingDatabase(sqlite: BetterSqlite, capacity = DEFAULT_CAPACITY): SqliteDatabase {
  const statements = new Map<string, Statement>();
  return {
    close: () => {
      statements.clear();
      sqlite.close();
    },
    prepare: (sql: string) => {
      const cached = statements.get(sql);
      // A statement still being iterated (a streamed query) cannot run again meanwhile.
      if (cached && !cached.busy) {
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const fresh = sqlite.prepare(sql);
      if (!cached) {
        statements.set(sql, fresh);
        if (statements.size > capacity) statements.delete(statements.keys().next().value as string);
      }
      return fresh;
    },
  };
}
