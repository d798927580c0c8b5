import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { CompiledQuery, type Driver, Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.js";
import { lockSqlite } from "./sqlite-lock.js";
import { cachingDatabase } from "./statement-cache.js";
import { ConnectionQueue } from "./connection-queue.js";

export type DialectName = "sqlite" | "postgres";

export interface Store {
  db: Kysely<Database>;
  dialect: DialectName;
  /** SQL statements this store has run so far (transaction control included): a cost figure. */
  statements(): number;
  close(): Promise<void>;
}

/** Kysely's log hook, used only to count the statements run. */
function statementCounter(): { log: () => void; statements: () => number } {
  let count = 0;
  return { log: () => void count++, statements: () => count };
}

/**
 * Transactions BEGIN IMMEDIATE: a transaction that reads and then writes (every placement)
 * holds the write lock from its start, so it cannot fail halfway with SQLITE_BUSY when another
 * connection wrote meanwhile; it waits its turn (busy_timeout) before reading instead.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection) => {
      await connection.executeQuery(CompiledQuery.raw("begin immediate"));
    };
    // Waiters for the one connection queue here, so the driver's own mutex is never contended.
    const queue = new ConnectionQueue();
    const acquire = driver.acquireConnection.bind(driver);
    const release = driver.releaseConnection.bind(driver);
    driver.acquireConnection = async () => {
      await queue.acquire();
      return acquire();
    };
    driver.releaseConnection = async (connection) => {
      await release(connection);
      queue.release();
    };
    return driver;
  }
}

/**
 * `lock`: hold the file for this server process alone (a second server refuses to start).
 * `exclusive`: and let nothing else open it while the server runs (see below); without it
 * (tools and tests, benches reading beside a server) the file is shared.
 */
export function openSqlite(file: string, options: { lock?: boolean; exclusive?: boolean } = {}): Store {
  mkdirSync(dirname(file), { recursive: true });
  const lock = options.lock ? lockSqlite(file) : null;
  let sqlite: SqliteDatabase.Database;
  try {
    sqlite = new SqliteDatabase(file);
  } catch (err) {
    lock?.release();
    throw err;
  }
  if (options.exclusive) {
    // The server holds the file alone, so it takes SQLite's exclusive locking
    // mode before entering WAL: the WAL index then lives in this process's heap instead of a
    // memory-mapped `-shm` file. A store of the mapped file that fails (the file made
    // immutable or read-only, truncated, its disk gone) is a SIGBUS, which kills the process
    // with no log line; a failed write() is an error the server answers and logs.
    sqlite.pragma("locking_mode = EXCLUSIVE");
  }
  // Never map the database file itself either (SQLite's default here, made explicit).
  sqlite.pragma("mmap_size = 0");
  // WAL: a commit appends to the log instead of rewriting pages (fewer syncs per transaction).
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("busy_timeout = 5000");
  // NORMAL in WAL mode: a commit survives a crash of the server process; only a power loss or
  // OS crash may lose the last transactions (the database stays consistent either way).
  sqlite.pragma("synchronous = NORMAL");
  const counter = statementCounter();
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: cachingDatabase(sqlite) }),
    log: counter.log,
  });
  return {
    db,
    dialect: "sqlite",
    statements: counter.statements,
    close: async () => {
      await db.destroy();
      lock?.release();
    },
  };
}

export function openPostgres(url: string): Store {
  // Ids, counts and epoch-ms times are int8 on PostgreSQL; all stay far below 2^53.
  const types = {
    getTypeParser: (oid: number, format?: string) =>
      oid === 20 ? (v: string) => Number(v) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format),
  };
  const pool = new pg.Pool({ connectionString: url, types: types as pg.CustomTypesConfig });
  // An idle pooled connection the server closes (restart, failover, admin kill) emits 'error'
  // on the pool; unheard, that would crash the control plane. The pool drops the client and
  // the next query opens a fresh one, so a warning is all it needs.
  pool.on("error", (err) => process.emitWarning(`PostgreSQL connection lost: ${err.message}`));
  const counter = statementCounter();
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: counter.log });
  return { db, dialect: "postgres", statements: counter.statements, close: () => db.destroy() };
}
