/** Throwaway stores for the benches that drive the server's code in process. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { type Store, openPostgres, openSqlite } from "../../packages/server/src/store/db.js";

/**
 * A throwaway database for `work`, dropped after it: empty, or a copy of `template` (a file
 * copy on the server: far quicker than seeding 110,000 rows again).
 */
export async function withDatabase<T>(adminUrl: string, work: (url: string) => Promise<T>, template?: string): Promise<T> {
  const name = `fedml_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"${template ? ` template "${template}"` : ""}`);
    return await work(databaseUrlOf(adminUrl, name));
  } finally {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

function databaseUrlOf(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * `work` on a store of its own: a throwaway PostgreSQL database when `adminUrl` is given, else
 * a SQLite file in a fresh directory; both gone after it.
 */
export async function withScratchStore<T>(
  adminUrl: string | undefined,
  work: (store: Store, label: string) => Promise<T>,
): Promise<T> {
  if (adminUrl) {
    return withDatabase(adminUrl, async (url) => {
      const store = openPostgres(url);
      try {
        return await work(store, "PostgreSQL");
      } finally {
        await store.close();
      }
    });
  }
  const dir = mkdtempSync(join(tmpdir(), "fedml-bench-store-"));
  const store = openSqlite(join(dir, "fedml.db"));
  try {
    return await work(store, "SQLite");
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
