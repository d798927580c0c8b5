import { ResultCode } from "@fedml/core";

/** What a database error means for the request that hit it. */
export interface StoreFault {
  /** read-only: the database takes no writes now; unavailable: it cannot be reached or is
   *  out of space; bad-value: it refused a value a client sent. */
  kind: "read-only" | "unavailable" | "bad-value";
  httpStatus: number;
  resultCode: number;
  message: string;
}

const readOnly = (detail: string): StoreFault => ({
  kind: "read-only",
  httpStatus: 503,
  resultCode: ResultCode.DB_INSERT_ERROR,
  message: `the server's database does not accept writes right now (${detail}); try again later`,
});

const unavailable = (detail: string): StoreFault => ({
  kind: "unavailable",
  httpStatus: 503,
  resultCode: ResultCode.DB_INSERT_ERROR,
  message: `the server's database is not available right now (${detail}); try again later`,
});

const badValue = (detail: string): StoreFault => ({
  kind: "bad-value",
  httpStatus: 400,
  resultCode: ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
  message: `a value in the request cannot be stored: ${detail}`,
});

/**
 * Sorts better-sqlite3 and pg errors by what the caller should hear. Anything else (a bug)
 * answers undefined and stays a 500.
 */
export function classifyStoreError(err: unknown): StoreFault | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== "string") return undefined;
  // better-sqlite3: SqliteError with extended result codes as names.
  if (code.startsWith("SQLITE_READONLY")) return readOnly("the database file is read-only");
  if (code === "SQLITE_FULL") return unavailable("the disk is full");
  if (code.startsWith("SQLITE_IOERR") || code === "SQLITE_CANTOPEN" || code.startsWith("SQLITE_BUSY")) {
    return unavailable(code);
  }
  if (code === "SQLITE_TOOBIG") return badValue("too large");
  if (code === "SQLITE_MISMATCH") return badValue("wrong type");
  // pg: SQLSTATE. 25006 read_only_sql_transaction; 53xxx insufficient resources; 08xxx
  // connection; 57P0x shutdown; 22xxx data exception (out of range, NUL, bad text).
  if (code === "25006") return readOnly("the database is in read-only mode");
  if (/^(53|08)[0-9A-Z]{3}$/.test(code) || /^57P0[1-3]$/.test(code)) return unavailable(`SQLSTATE ${code}`);
  if (/^22[0-9A-Z]{3}$/.test(code)) return badValue(err.message.split("\n")[0]);
  // pg's client, when the server is gone.
  if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "ETIMEDOUT") return unavailable(code);
  return undefined;
}
