// Statements compiled once per shape and run with each call's values (store/prepared.ts): each
// shape is built once, a different shape (another set of columns, a longer list) gets its own
// statement, every run reaches the database's plugins (the write-fault hook fails it), and an
// argument holding an expression is built as it comes. On SQLite, or PostgreSQL with
// FEDML_TEST_DATABASE_URL.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type Kysely, type UpdateObject, sql } from "kysely";
import type { Store } from "../src/store/db.js";
import { migrateToLatest } from "../src/store/migrations.js";
import { prepared, preparedRead } from "../src/store/prepared.js";
import type { Database } from "../src/store/schema.js";
import { insertUser } from "../src/store/users.js";
import { type StoreWrite, WriteFaults } from "../src/store/write-faults.js";
import { openTestStore } from "./support/database.js";
import { tempDir } from "./support/tmp.js";

const tmp = tempDir("prepared");
let store: Store;
const ids: number[] = [];

before(async () => {
  store = await openTestStore(tmp.dir);
  await migrateToLatest(store.db, store.dialect);
  for (const name of ["p-a", "p-b", "p-c"]) {
    const user = await insertUser(store.db, name, false, 1_000);
    assert.ok(user);
    ids.push(user.id);
  }
});
after(async () => {
  await store.close();
  tmp.cleanup();
});

let builds = 0;
const updateUserIf = prepared((db, id: number, names: readonly string[], changes: UpdateObject<Database, "users">) => {
  builds++;
  return db
    .updateTable("users")
    .set(changes)
    .where("id", "=", id)
    .where("name", "in", [...names]);
});
const usersNamed = preparedRead((db, names: readonly string[]) =>
  db
    .selectFrom("users")
    .select(["id", "name", "card_bound"])
    .where("name", "in", [...names])
    .orderBy("id"),
);
const cardOf = async (db: Kysely<Database>, id: number) =>
  (await db.selectFrom("users").select("card_bound").where("id", "=", id).executeTakeFirstOrThrow()).card_bound;

test("prepared: one build per shape, each call with its own values", async () => {
  builds = 0;
  const changed = await updateUserIf(store.db, ids[0], ["p-a"], { card_bound: 1 });
  assert.equal(Number(changed.numAffectedRows), 1);
  // Same shape, other values: no new build, and the values are this call's.
  assert.equal(Number((await updateUserIf(store.db, ids[1], ["p-b"], { card_bound: 1 })).numAffectedRows), 1);
  assert.equal(Number((await updateUserIf(store.db, ids[2], ["p-a"], { card_bound: 1 })).numAffectedRows), 0);
  assert.equal(builds, 1);
  assert.deepEqual([await cardOf(store.db, ids[0]), await cardOf(store.db, ids[1]), await cardOf(store.db, ids[2])], [1, 1, 0]);
  // A longer list, or an undefined column (left out as kysely leaves it out), is another shape.
  await updateUserIf(store.db, ids[2], ["p-x", "p-c"], { card_bound: 1, name: undefined });
  assert.equal(builds, 2);
  assert.equal(await cardOf(store.db, ids[2]), 1);
  // Another set of columns: another shape, and each column gets its own value.
  await updateUserIf(store.db, ids[0], ["p-a"], { name: "p-a2", card_bound: 0 });
  assert.equal(builds, 3);
  assert.deepEqual(
    (await usersNamed(store.db, ["p-a2", "p-b"])).map((u) => [u.id, u.name, u.card_bound]),
    [
      [ids[0], "p-a2", 0],
      [ids[1], "p-b", 1],
    ],
  );
  await updateUserIf(store.db, ids[0], ["p-a2"], { name: "p-a", card_bound: 0 });
  assert.equal(builds, 3);
  assert.deepEqual(
    (await usersNamed(store.db, ["p-a"])).map((u) => u.name),
    ["p-a"],
  );
});

test("prepared: every run passes through the database's plugins, and a refused one writes nothing", async () => {
  const seen: StoreWrite[] = [];
  let refuse = false;
  const watched = store.db.withPlugin(
    new WriteFaults((write) => {
      seen.push(write);
      if (refuse) throw new Error("injected fault");
    }),
  );
  builds = 0;
  for (let i = 0; i < 3; i++) await updateUserIf(watched, ids[1], ["p-b"], { card_bound: i % 2 });
  assert.equal(builds, 0, "the shape compiled before is used with the plugin too");
  assert.deepEqual(
    seen,
    Array.from({ length: 3 }, () => ({ kind: "update", table: "users" })),
  );
  refuse = true;
  await assert.rejects(updateUserIf(watched, ids[1], ["p-b"], { card_bound: 1 }), /injected fault/);
  assert.equal(await cardOf(store.db, ids[1]), 0);
  assert.equal(seen.length, 4);
});

test("prepared: an argument holding an expression is built for its call", async () => {
  builds = 0;
  const expression = sql<number>`1 - card_bound`;
  const before = await cardOf(store.db, ids[2]);
  await updateUserIf(store.db, ids[2], ["p-c"], { card_bound: expression });
  await updateUserIf(store.db, ids[2], ["p-c"], { card_bound: expression });
  assert.equal(builds, 2);
  assert.equal(await cardOf(store.db, ids[2]), before);
  await updateUserIf(store.db, ids[2], ["p-c"], { card_bound: expression });
  assert.equal(await cardOf(store.db, ids[2]), 1 - before);
});

test("prepared: inside a transaction, and rolled back with it", async () => {
  await assert.rejects(
    store.db.transaction().execute(async (trx) => {
      await updateUserIf(trx, ids[0], ["p-a"], { card_bound: 1 });
      assert.equal(await cardOf(trx, ids[0]), 1);
      throw new Error("roll back");
    }),
    /roll back/,
  );
  assert.equal(await cardOf(store.db, ids[0]), 0);
});
