import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { type SweepLeader, postgresSweepLeader, soleSweepLeader } from "../src/sweep-leader.js";
import { databaseUrlFor, onPostgres } from "./support/database.js";
import { tempDir } from "./support/tmp.js";

describe("the replica that runs the tick's sweeps", () => {
  test("one process on SQLite always does", async () => {
    assert.equal(await soleSweepLeader.leads(), true);
  });

  describe("on PostgreSQL", { skip: onPostgres ? false : "FEDML_TEST_DATABASE_URL is unset" }, () => {
    const tmp = tempDir("sweep-leader");
    const leaders: SweepLeader[] = [];
    after(async () => {
      for (const leader of leaders) await leader.close();
      tmp.cleanup();
    });

    test("exactly one of three replicas leads, and another takes over once it is gone", async () => {
      const url = await databaseUrlFor(tmp.dir);
      assert.ok(url);
      const errors: unknown[] = [];
      for (let i = 0; i < 3; i++) leaders.push(postgresSweepLeader(url, (_message, err) => errors.push(err)));
      const first = await Promise.all(leaders.map((l) => l.leads()));
      assert.equal(first.filter(Boolean).length, 1, `one leads: ${first}`);
      const holder = first.indexOf(true);
      // It keeps leading, tick after tick, and nobody else gets in meanwhile.
      const again = await Promise.all(leaders.map((l) => l.leads()));
      assert.deepEqual(again, first);
      // Its connection closes (the replica stopped or died): PostgreSQL lets go of the lock.
      await leaders[holder].close();
      const rest = leaders.filter((_, i) => i !== holder);
      const next = await Promise.all(rest.map((l) => l.leads()));
      assert.equal(next.filter(Boolean).length, 1, `one of the others leads now: ${next}`);
      assert.equal(await leaders[holder].leads(), false, "a closed one never leads");
      assert.deepEqual(errors, []);
    });
  });
});
