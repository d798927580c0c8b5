// Wake-ups: in one process (the SQLite default) and across server processes on one
// PostgreSQL (LISTEN/NOTIFY), where waiters on one replica wake when another one notifies.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import pg from "pg";
import { NotifyHub } from "../src/notify.js";
import { packPayloads, startPostgresWake, unpackPayload } from "../src/notify-postgres.js";
import { databaseUrlFor, onPostgres } from "./support/database.js";
import { tempDir } from "./support/tmp.js";

/** Recheck timers far beyond any deadline here: only a notification can wake these waiters. */
const NO_RECHECK_MS = 60_000;

describe("NotifyHub in one process", () => {
  test("a notification that arrives while the check runs makes it run again at once", async () => {
    const hub = new NotifyHub(NO_RECHECK_MS);
    let checks = 0;
    const started = Date.now();
    const value = await hub.waitUntil("t", 30_000, async () => {
      checks++;
      if (checks === 1) hub.notify("t");
      return checks === 2 ? "woken" : undefined;
    });
    assert.equal(value, "woken");
    assert.ok(Date.now() - started < 5_000);
    await hub.close();
  });

  test("held waits are re-checked about once a period, a slice of them at a time", async () => {
    const hub = new NotifyHub(400);
    const waiters = 60;
    const recheckedAt: number[][] = Array.from({ length: waiters }, () => []);
    await Promise.all(
      recheckedAt.map((times, i) => {
        let first = true;
        // Deadlines 7 ms apart: the last checks of the waits do not fall together either.
        return hub.waitUntil(`t:${i}`, 1_300 + 7 * i, async () => {
          if (!first) times.push(performance.now());
          first = false;
          return undefined;
        });
      }),
    );
    await hub.close();
    // Each waiter was re-checked by the tick in its 1.3 s.
    for (const times of recheckedAt) assert.ok(times.length >= 2, `re-checked ${times.length} times`);
    // Re-checks in the same turn of the event loop land within a few ms of each other.
    const all = recheckedAt.flat().sort((a, b) => a - b);
    const groups: number[] = [];
    let groupStart = Number.NEGATIVE_INFINITY;
    for (const t of all) {
      if (t - groupStart > 5) {
        groupStart = t;
        groups.push(0);
      }
      groups[groups.length - 1]++;
    }
    // Without slices every tick re-checked all 60 together; with 10 slices one tick re-checks 6
    // (a deadline may join a slice).
    assert.ok(Math.max(...groups) <= 20, `largest group of re-checks ${Math.max(...groups)}`);
    assert.ok(groups.length >= 8, `${groups.length} groups of re-checks`);
  });

  test("payloads pack many topics and stay under NOTIFY's limit", () => {
    const topics = Array.from({ length: 3000 }, (_, i) => `device:${i}`);
    const payloads = packPayloads("abc", topics);
    assert.ok(payloads.length > 1);
    for (const p of payloads) assert.ok(Buffer.byteLength(p) < 8000);
    assert.deepEqual(
      payloads.flatMap((p) => unpackPayload(p).topics),
      topics,
    );
    assert.ok(payloads.every((p) => unpackPayload(p).sender === "abc"));
  });
});

describe(
  "NotifyHub across processes (PostgreSQL LISTEN/NOTIFY)",
  { skip: onPostgres ? false : "FEDML_TEST_DATABASE_URL is unset" },
  () => {
    const tmp = tempDir("notify");
    const hubs: NotifyHub[] = [];
    after(async () => {
      for (const hub of hubs) await hub.close();
      tmp.cleanup();
    });

    async function replicaHub(url: string): Promise<{ hub: NotifyHub; gaps: () => number }> {
      const hub = new NotifyHub(NO_RECHECK_MS);
      let gaps = 0;
      hub.connect(
        await startPostgresWake({
          url,
          onTopic: (topic) => hub.deliver(topic),
          onGap: () => {
            gaps++;
            hub.deliverAll();
          },
          onError: () => undefined,
        }),
      );
      hubs.push(hub);
      return { hub, gaps: () => gaps };
    }

    test("a waiter on one replica wakes when another notifies, and only for its topic", async () => {
      const url = (await databaseUrlFor(tmp.dir)) as string;
      const a = await replicaHub(url);
      const b = await replicaHub(url);
      let state = 0;
      const started = Date.now();
      const waiting = b.hub.waitUntil("run:7", 20_000, async () => (state > 0 ? state : undefined));
      const other = b.hub.waitUntil("run:8", 1_500, async () => undefined);
      state = 1;
      a.hub.notify("run:7");
      assert.equal(await waiting, 1);
      assert.ok(Date.now() - started < 5_000, `woken after ${Date.now() - started} ms`);
      assert.equal(await other, undefined);
    });

    test("the listener reconnects after its connection is killed, then wakes everyone and hears again", async () => {
      const url = (await databaseUrlFor(tmp.dir)) as string;
      const a = await replicaHub(url);
      const b = await replicaHub(url);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        // Kill every LISTEN connection on this database; the hubs must come back by themselves.
        await admin.query(
          "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query like 'LISTEN%' and pid <> pg_backend_pid()",
        );
      } finally {
        await admin.end();
      }
      const deadline = Date.now() + 15_000;
      while (b.gaps() === 0 || a.gaps() === 0) {
        assert.ok(Date.now() < deadline, "the listeners did not reconnect");
        await new Promise((r) => setTimeout(r, 50));
      }
      let state = 0;
      const waiting = b.hub.waitUntil("device:3", 20_000, async () => (state > 0 ? state : undefined));
      state = 2;
      a.hub.notify("device:3");
      assert.equal(await waiting, 2);
    });
  },
);
