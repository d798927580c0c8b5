import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import SqliteDatabase from "better-sqlite3";
import { classifyStoreError } from "../src/store/store-errors.js";
import { tempDir } from "./support/tmp.js";

test("real SQLite errors are sorted: read-only file, refused value; anything else stays a bug", () => {
  const tmp = tempDir("store-errors");
  try {
    const file = join(tmp.dir, "x.db");
    const writable = new SqliteDatabase(file);
    writable.exec("create table t (v text)");
    writable.close();
    const readOnly = new SqliteDatabase(file, { readonly: true });
    let caught: unknown;
    try {
      readOnly.prepare("insert into t values ('a')").run();
    } catch (err) {
      caught = err;
    }
    readOnly.close();
    const fault = classifyStoreError(caught);
    assert.equal(fault?.kind, "read-only");
    assert.equal(fault?.httpStatus, 503);
    assert.equal(fault?.resultCode, 29);
    assert.match(fault?.message ?? "", /does not accept writes right now \(the database file is read-only\)/);
    assert.equal(classifyStoreError(new Error("a bug")), undefined);
    assert.equal(classifyStoreError(Object.assign(new Error("x"), { code: "22P05" }))?.kind, "bad-value");
    assert.equal(classifyStoreError(Object.assign(new Error("x"), { code: "25006" }))?.kind, "read-only");
  } finally {
    tmp.cleanup();
  }
});
