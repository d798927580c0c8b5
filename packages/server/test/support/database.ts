// Which database the tests run on. Unset FEDML_TEST_DATABASE_URL: the embedded SQLite file
// under each test home, as a user gets by default. Set to a postgres:// URL (of a throwaway
// cluster, see scripts/pg-test-cluster.sh): each test home gets its own fresh database,
// created on first use and dropped when the test file ends, so tests stay as isolated as
// they are on SQLite and a server restarted on the same home finds its data again.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { isPostgresUrl } from "../../src/config.js";
import { type Store, openPostgres, openSqlite } from "../../src/store/db.js";

const adminUrl = process.env.FEDML_TEST_DATABASE_URL;
if (adminUrl && !isPostgresUrl(adminUrl)) throw new Error(`FEDML_TEST_DATABASE_URL must be a postgres:// URL, not ${adminUrl}`);

/** True when this run of the tests targets PostgreSQL. */
export const onPostgres = isPostgresUrl(adminUrl);

const byHome = new Map<string, Promise<string>>();
const created: string[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function drop(names: string[]): Promise<void> {
  if (names.length === 0) return;
  await admin(async (client) => {
    // FORCE: a server process a test left running (or crashed) may still hold connections.
    for (const name of names) await client.query(`drop database if exists "${name}" with (force)`);
  });
}

if (onPostgres) {
  // Not a node:test `after` hook: registered on import, it would run before the file's own
  // hooks that stop its servers. Once the file's tests are done and its servers stopped,
  // the event loop empties and whatever no test dropped itself goes.
  process.once("beforeExit", () => void drop(created.splice(0)));
}

/**
 * The --database-url for a server whose home is `home`: undefined on SQLite; on PostgreSQL
 * the URL of a database made for that home (the same one on every call for it).
 */
export function databaseUrlFor(home: string): Promise<string | undefined> {
  if (!onPostgres || !adminUrl) return Promise.resolve(undefined);
  let url = byHome.get(home);
  if (!url) {
    const name = `fedml_test_${randomBytes(6).toString("hex")}`;
    url = admin(async (client) => {
      await client.query(`create database "${name}"`);
      created.push(name);
      return withDatabase(adminUrl, name);
    });
    byHome.set(home, url);
  }
  return url;
}

/** Drops the database made for `home` (none on SQLite): for a home no server will use again. */
export async function dropDatabaseFor(home: string): Promise<void> {
  const url = byHome.get(home);
  if (!url) return;
  byHome.delete(home);
  const name = new URL(await url).pathname.slice(1);
  const i = created.indexOf(name);
  if (i >= 0) created.splice(i, 1);
  await drop([name]);
}

/** The stores of servers running in this process, by home (see `servingStore`). */
const liveStores = new Map<string, Store>();

/**
 * Marks `home`'s store as held by a server in this process until `release`: a SQLite server
 * holds its file exclusively, so a test reads and writes beside it through the server's own
 * connection.
 */
export function servingStore(home: string, store: Store): () => void {
  liveStores.set(home, store);
  return () => {
    if (liveStores.get(home) === store) liveStores.delete(home);
  };
}

/** The store a server at `home` uses (not yet migrated), opened directly by a test. */
export async function openTestStore(home: string): Promise<Store> {
  const url = await databaseUrlFor(home);
  if (url) return openPostgres(url);
  const live = liveStores.get(home);
  // The server's connection: closing it is the server's business.
  if (live) return { ...live, close: async () => {} };
  return openSqlite(join(home, "server", "fedml.db"));
}
