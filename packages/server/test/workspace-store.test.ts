import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../../../test/support/wait.js";
import { buildServer } from "../src/app.js";
import { databaseUrlFor, openTestStore } from "./support/database.js";
import { type TestServer, deviceFacts, startTestServer } from "./support/server.js";
import { MiB, agentDownload, client, cutUpload, sha } from "./support/workspace-client.js";

describe("workspace store: chunked in the database, verified, usable only by its uploaders", () => {
  let t: TestServer;
  let c: ReturnType<typeof client>;
  before(async () => {
    t = await startTestServer();
    c = client(t);
  });
  after(() => t.stop());

  test("bytes go to the database in 1 MiB chunks, not to the replica's disk", async () => {
    const key = await t.createUser("chunky");
    const blob = randomBytes(2 * MiB + 12345);
    const s = sha(blob);
    assert.deepEqual((await c.put(key, s, blob)).body, { sha256: s, size: blob.length, created: true });
    const store = await openTestStore(t.home);
    try {
      const chunks = await store.db
        .selectFrom("workspace_chunks")
        .innerJoin("workspace_blobs", "workspace_blobs.upload_id", "workspace_chunks.upload_id")
        .select(["workspace_chunks.length"])
        .where("workspace_blobs.sha256", "=", s)
        .orderBy("workspace_chunks.start_byte")
        .execute();
      assert.deepEqual(
        chunks.map((r) => r.length),
        [MiB, MiB, 12345],
      );
    } finally {
      await store.close();
    }
    assert.equal(existsSync(join(t.home, "server", "workspaces", `${s}.tar.gz`)), false);
  });

  test("another user's hash proves nothing: HEAD, upload state and launch answer as if absent until it sends the bytes", async () => {
    const alice = await t.createUser("alice-ws");
    const bob = await t.createUser("bob-ws");
    await t.registerDevice(bob, deviceFacts("bob-dev"));
    const blob = randomBytes(4096);
    const s = sha(blob);
    assert.equal((await c.put(alice, s, blob)).status, 200);
    assert.equal(await c.head(alice, s), 200);
    assert.equal(await c.head(bob, s), 404);
    assert.deepEqual(await c.state(bob, s), { sha256: s, size: null, receivedBytes: 0, complete: false });
    const refused = await c.launch(bob, s);
    assert.equal(refused.resultCode, 11);
    assert.equal(refused.error, `workspace ${s} was not uploaded`);
    // Wrong bytes under the right name: refused, still not usable.
    const wrong = await c.put(bob, s, randomBytes(4096));
    assert.equal(wrong.status, 400);
    assert.equal(await c.head(bob, s), 404);
    // The right bytes: bob may use it now, without a second copy being stored.
    assert.deepEqual((await c.put(bob, s, blob)).body, { sha256: s, size: blob.length, created: false });
    assert.equal(await c.head(bob, s), 200);
    assert.equal((await c.launch(bob, s)).resultCode, 0);
  });

  test("resumable upload: a cut connection keeps the committed chunks; the client sends the rest from receivedBytes", async () => {
    const key = await t.createUser("resumer");
    const blob = randomBytes(3 * MiB + 777);
    const s = sha(blob);
    await cutUpload(t, key, s, blob, 2 * MiB + 5000);
    const state = await waitFor("the server to settle the cut upload", async () => {
      const st = await c.state(key, s);
      return st.receivedBytes >= 2 * MiB ? st : undefined;
    });
    // Whole chunks survive; the piece of a chunk in flight does not.
    assert.deepEqual(state, { sha256: s, size: blob.length, receivedBytes: 2 * MiB, complete: false });
    assert.equal(await c.head(key, s), 404);
    const misplaced = await c.patch(key, s, MiB, blob.length, blob.subarray(MiB));
    assert.equal(misplaced.status, 409);
    assert.equal(misplaced.body.receivedBytes, 2 * MiB);
    assert.equal(misplaced.body.resultCode, 3);
    const rest = await c.patch(key, s, 2 * MiB, blob.length, blob.subarray(2 * MiB));
    assert.deepEqual(rest.body, { sha256: s, size: blob.length, receivedBytes: blob.length, complete: true, created: true });
    assert.equal(await c.head(key, s), 200);
    // Bytes that do not hash to the name: the upload is dropped, nothing becomes usable.
    const bad = randomBytes(1000);
    const badName = sha(randomBytes(8));
    const refused = await c.patch(key, badName, 0, bad.length, bad);
    assert.equal(refused.status, 400);
    assert.match(String(refused.body.error), /has sha256 [0-9a-f]{64}, not/);
    assert.deepEqual(await c.state(key, badName), { sha256: badName, size: null, receivedBytes: 0, complete: false });
  });

  test("a corrupted blob is detected on read and never sent; uploading the right bytes again repairs it", async () => {
    const key = await t.createUser("corrupted");
    const device = await t.registerDevice(key, deviceFacts("corrupt-dev", { maxJobs: 4 }));
    const blob = randomBytes(2 * MiB + 100);
    const s = sha(blob);
    assert.equal((await c.put(key, s, blob)).status, 200);
    assert.equal((await c.launch(key, s)).resultCode, 0);
    const good = await agentDownload(t, device.deviceToken, s);
    assert.equal(good.status, 200);
    assert.equal(sha(good.bytes), s);

    const store = await openTestStore(t.home);
    try {
      const row = await store.db
        .selectFrom("workspace_chunks")
        .innerJoin("workspace_blobs", "workspace_blobs.upload_id", "workspace_chunks.upload_id")
        .select(["workspace_chunks.upload_id", "workspace_chunks.data"])
        .where("workspace_blobs.sha256", "=", s)
        .where("workspace_chunks.start_byte", "=", MiB)
        .executeTakeFirstOrThrow();
      const flipped = Buffer.from(row.data);
      flipped[10] ^= 0xff;
      await store.db
        .updateTable("workspace_chunks")
        .set({ data: flipped })
        .where("upload_id", "=", row.upload_id)
        .where("start_byte", "=", MiB)
        .execute();
    } finally {
      await store.close();
    }
    const bad = await agentDownload(t, device.deviceToken, s);
    assert.equal(bad.complete, false, "the response must not end as if whole");
    assert.ok(bad.bytes.length <= MiB, `only the verified first chunk may go out, not ${bad.bytes.length} bytes`);
    assert.ok(blob.subarray(0, bad.bytes.length).equals(bad.bytes), "every byte sent is a right one");
    // Marked unusable: nobody is offered it, a launch is refused, the agent gets 404.
    assert.equal(await c.head(key, s), 404);
    assert.equal((await c.launch(key, s)).resultCode, 11);
    assert.equal((await agentDownload(t, device.deviceToken, s)).status, 404);

    assert.deepEqual((await c.put(key, s, blob)).body, { sha256: s, size: blob.length, created: true });
    assert.equal(await c.head(key, s), 200);
    const repaired = await agentDownload(t, device.deviceToken, s);
    assert.equal(repaired.complete, true);
    assert.equal(sha(repaired.bytes), s);
  });

  test("a second user's bytes are compared with the stored copy before it may use them; a differing copy is replaced", async () => {
    const alice = await t.createUser("alice-cmp");
    const bob = await t.createUser("bob-cmp");
    const device = await t.registerDevice(bob, deviceFacts("cmp-dev", { maxJobs: 4 }));
    /** Changes a byte of the stored copy and its chunk's checksum with it: only a comparison can tell. */
    const tamper = async (s: string) => {
      const store = await openTestStore(t.home);
      try {
        const row = await store.db
          .selectFrom("workspace_chunks")
          .innerJoin("workspace_blobs", "workspace_blobs.upload_id", "workspace_chunks.upload_id")
          .select(["workspace_chunks.upload_id", "workspace_chunks.data"])
          .where("workspace_blobs.sha256", "=", s)
          .where("workspace_chunks.start_byte", "=", MiB)
          .executeTakeFirstOrThrow();
        const changed = Buffer.from(row.data);
        changed[7] ^= 0xff;
        await store.db
          .updateTable("workspace_chunks")
          .set({ data: changed, sha256: sha(changed) })
          .where("upload_id", "=", row.upload_id)
          .where("start_byte", "=", MiB)
          .execute();
      } finally {
        await store.close();
      }
    };
    // Whole-body PUT: the bytes are compared as they arrive, never stored twice.
    const blob = randomBytes(2 * MiB + 3);
    const s = sha(blob);
    assert.equal((await c.put(alice, s, blob)).status, 200);
    await tamper(s);
    const refused = await c.put(bob, s, blob);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.resultCode, 3);
    assert.match(String(refused.body.error), /copy of workspace [0-9a-f]{64} was damaged and is dropped: upload it again/);
    assert.equal(await c.head(bob, s), 404, "not granted on a comparison that failed");
    assert.equal(await c.head(alice, s), 404, "the damaged copy is nobody's any more");
    assert.deepEqual((await c.put(bob, s, blob)).body, { sha256: s, size: blob.length, created: true });
    assert.equal((await c.launch(bob, s)).resultCode, 0);
    const repaired = await agentDownload(t, device.deviceToken, s);
    assert.ok(repaired.complete && repaired.bytes.equals(blob));
    // Resumable PATCH: the verified upload is compared with the stored copy and replaces it.
    const other = randomBytes(MiB + 5000);
    const o = sha(other);
    assert.equal((await c.put(alice, o, other)).status, 200);
    await tamper(o);
    const patched = await c.patch(bob, o, 0, other.length, other);
    assert.deepEqual(patched.body, { sha256: o, size: other.length, receivedBytes: other.length, complete: true, created: true });
    assert.equal((await c.launch(bob, o)).resultCode, 0);
    const fixed = await agentDownload(t, device.deviceToken, o);
    assert.ok(fixed.complete && fixed.bytes.equals(other));
    // Untouched bytes: a second user is granted the copy without a new one (created: false).
    const plain = randomBytes(5000);
    assert.equal((await c.put(alice, sha(plain), plain)).status, 200);
    assert.deepEqual((await c.patch(bob, sha(plain), 0, plain.length, plain)).body.created, false);
    assert.equal(await c.head(bob, sha(plain)), 200);
  });
});

describe("workspace store bounds: LRU by size, never a live run's blob, a quota per user", () => {
  let t: TestServer;
  let c: ReturnType<typeof client>;
  before(async () => {
    t = await startTestServer({ workspaceStoreBytes: 3 * MiB + MiB / 2, userWorkspaceBytes: 10 * MiB });
    c = client(t);
  });
  after(() => t.stop());

  test("the least recently used blob goes first, but not one a queued or running run needs; full of live blobs: 507, code 32", async () => {
    const key = await t.createUser("lru");
    await t.registerDevice(key, deviceFacts("lru-dev", { maxJobs: 10 }));
    const blobs = [randomBytes(MiB), randomBytes(MiB), randomBytes(MiB), randomBytes(MiB)];
    const [a, b, cc, d] = blobs.map(sha);
    assert.equal((await c.put(key, a, blobs[0])).status, 200);
    assert.equal((await c.put(key, b, blobs[1])).status, 200);
    // a is the oldest, but a run needs it.
    assert.equal((await c.launch(key, a)).resultCode, 0);
    await c.head(key, b);
    assert.equal((await c.put(key, cc, blobs[2])).status, 200);
    assert.equal((await c.put(key, d, blobs[3])).status, 200);
    assert.deepEqual(
      [await c.head(key, a), await c.head(key, b), await c.head(key, cc), await c.head(key, d)],
      [200, 404, 200, 200],
    );
    // Every blob held belongs to a live run: no room, and the message says why.
    assert.equal((await c.launch(key, cc)).resultCode, 0);
    assert.equal((await c.launch(key, d)).resultCode, 0);
    const e = randomBytes(MiB);
    const full = await c.put(key, sha(e), e);
    assert.equal(full.status, 507);
    assert.equal(full.body.resultCode, 32);
    assert.match(String(full.body.error), /workspace store is full/);
  });
});

describe("per-user workspace quota", () => {
  let t: TestServer;
  let c: ReturnType<typeof client>;
  before(async () => {
    t = await startTestServer({ userWorkspaceBytes: 2 * MiB + MiB / 2 });
    c = client(t);
  });
  after(() => t.stop());

  test("over the quota the user's least recently used blob goes; when its live runs hold it all: 413, code 32", async () => {
    const key = await t.createUser("quota");
    await t.registerDevice(key, deviceFacts("quota-dev", { maxJobs: 10 }));
    const blobs = [randomBytes(MiB), randomBytes(MiB), randomBytes(MiB)];
    const [x, y, z] = blobs.map(sha);
    assert.equal((await c.put(key, x, blobs[0])).status, 200);
    assert.equal((await c.put(key, y, blobs[1])).status, 200);
    assert.equal((await c.put(key, z, blobs[2])).status, 200);
    assert.deepEqual([await c.head(key, x), await c.head(key, y), await c.head(key, z)], [404, 200, 200]);
    assert.equal((await c.launch(key, y)).resultCode, 0);
    assert.equal((await c.launch(key, z)).resultCode, 0);
    const w = randomBytes(MiB);
    const refused = await c.put(key, sha(w), w);
    assert.equal(refused.status, 413);
    assert.equal(refused.body.resultCode, 32);
    assert.match(String(refused.body.error), /workspace storage quota reached/);
    // Another user has its own quota.
    const other = await t.createUser("quota-other");
    assert.equal((await c.put(other, sha(w), w)).status, 200);
  });
});

describe("blobs a server kept on its disk before move into the database on start", () => {
  test("the file goes, the owners of the runs that name it may use it", async () => {
    const t = await startTestServer();
    const key = await t.createUser("legacy");
    await t.registerDevice(key, deviceFacts("legacy-dev"));
    const blob = randomBytes(1500);
    const s = sha(blob);
    assert.equal((await client(t).put(key, s, blob)).status, 200);
    assert.equal((await client(t).launch(key, s)).resultCode, 0);
    await t.server.close();
    // As the old server left it: the bytes in a file, nothing in the blob tables.
    const store = await openTestStore(t.home);
    await store.db.deleteFrom("workspace_blob_users").execute();
    await store.db.deleteFrom("workspace_chunks").execute();
    await store.db.deleteFrom("workspace_blobs").execute();
    await store.close();
    const dir = join(t.home, "server", "workspaces");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${s}.tar.gz`), blob);
    const server = await buildServer({ home: t.home, port: 0, logLevel: "silent", databaseUrl: await databaseUrlFor(t.home) });
    try {
      assert.equal(existsSync(join(dir, `${s}.tar.gz`)), false);
      const head = await fetch(`${server.url}/api/v1/workspaces/${s}`, {
        method: "HEAD",
        headers: { authorization: `Bearer ${key}` },
      });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(blob.length));
      const adminKey = readFileSync(join(t.home, "server", "admin-key"), "utf8").trim();
      const other = await fetch(`${server.url}/api/v1/workspaces/${s}`, {
        method: "HEAD",
        headers: { authorization: `Bearer ${adminKey}` },
      });
      assert.equal(other.status, 404);
    } finally {
      await server.close();
      t.server.close = async () => {};
      await t.stop();
    }
  });
});
