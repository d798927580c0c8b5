// The S3 workspace store through the HTTP API, against a real S3-protocol server (s3rver) on
// loopback: bytes in 8 MiB parts of one object, none in the database; uploads resume by whole
// parts; a changed object is caught on read and never sent; replaced objects are deleted; a
// secret the store stops accepting fails the request with one line.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { type S3Store, startS3 } from "../../../test/support/s3.js";
import { makeTempDir } from "../../../test/support/tmp.js";
import { waitFor } from "../../../test/support/wait.js";
import { openTestStore } from "./support/database.js";
import { type TestServer, deviceFacts, startTestServer } from "./support/server.js";
import { MiB, agentDownload, client, cutUpload, sha } from "./support/workspace-client.js";

const PART = 8 * MiB;

describe("workspace store: S3-compatible bucket", () => {
  const tmp = makeTempDir("s3-store");
  let s3: S3Store;
  let t: TestServer;
  let c: ReturnType<typeof client>;
  before(async () => {
    s3 = await startS3(tmp.dir);
    t = await startTestServer({ s3: s3.settings() });
    c = client(t);
  });
  after(async () => {
    await t?.stop();
    await s3?.stop();
    tmp.cleanup();
  });

  async function partsOf(s: string) {
    const store = await openTestStore(t.home);
    try {
      const parts = await store.db
        .selectFrom("workspace_object_parts")
        .innerJoin("workspace_blobs", "workspace_blobs.upload_id", "workspace_object_parts.upload_id")
        .select(["workspace_object_parts.length"])
        .where("workspace_blobs.sha256", "=", s)
        .orderBy("workspace_object_parts.part_number")
        .execute();
      const chunks = await store.db.selectFrom("workspace_chunks").select("upload_id").execute();
      return { parts: parts.map((p) => p.length), chunks: chunks.length };
    } finally {
      await store.close();
    }
  }

  test("one object in 8 MiB parts, nothing in the database; the agent gets the same bytes; a second user's copy is compared", async () => {
    const alice = await t.createUser("alice-s3");
    const bob = await t.createUser("bob-s3");
    const device = await t.registerDevice(bob, deviceFacts("s3-dev", { maxJobs: 4 }));
    const blob = randomBytes(PART + 12345);
    const s = sha(blob);
    const before = s3.objectKeys().length;
    assert.deepEqual((await c.put(alice, s, blob)).body, { sha256: s, size: blob.length, created: true });
    assert.deepEqual(await partsOf(s), { parts: [PART, 12345], chunks: 0 });
    assert.equal(s3.objectKeys().length, before + 1);
    // Bob proves he has the bytes (compared with the object as they arrive), then runs them.
    assert.equal((await c.put(bob, s, randomBytes(100))).status, 400);
    assert.deepEqual((await c.put(bob, s, blob)).body, { sha256: s, size: blob.length, created: false });
    assert.equal((await c.launch(bob, s)).resultCode, 0);
    const got = await agentDownload(t, device.deviceToken, s);
    assert.equal(got.status, 200);
    assert.equal(got.complete, true);
    assert.ok(got.bytes.equals(blob));
  });

  test("resumable: whole parts survive a cut connection; a short tail that does not end the upload is not kept", async () => {
    const key = await t.createUser("resumer-s3");
    const blob = randomBytes(PART + 6 * MiB);
    const s = sha(blob);
    await cutUpload(t, key, s, blob, PART + 5000);
    const state = await waitFor("the server to settle the cut upload", async () => {
      const st = await c.state(key, s);
      return st.receivedBytes >= PART ? st : undefined;
    });
    assert.deepEqual(state, { sha256: s, size: blob.length, receivedBytes: PART, complete: false });
    // 1 MiB more, short of S3's 5 MiB minimum part and not the end: nothing kept.
    const short = await c.patch(key, s, PART, blob.length, blob.subarray(PART, PART + MiB));
    assert.deepEqual(short.body, { sha256: s, size: blob.length, receivedBytes: PART, complete: false });
    const rest = await c.patch(key, s, PART, blob.length, blob.subarray(PART));
    assert.deepEqual(rest.body, { sha256: s, size: blob.length, receivedBytes: blob.length, complete: true, created: true });
    assert.deepEqual(await partsOf(s), { parts: [PART, 6 * MiB], chunks: 0 });
  });

  test("a changed object is caught on read and never sent; the right bytes again repair it and the old object goes", async () => {
    const key = await t.createUser("damaged-s3");
    const device = await t.registerDevice(key, deviceFacts("damaged-dev", { maxJobs: 4 }));
    const blob = randomBytes(PART + MiB);
    const s = sha(blob);
    const held = new Set(s3.objectKeys());
    assert.equal((await c.put(key, s, blob)).status, 200);
    const [objectKey] = s3.objectKeys().filter((k) => !held.has(k));
    assert.ok(objectKey);
    assert.equal((await c.launch(key, s)).resultCode, 0);

    const file = s3.objectFile(objectKey);
    const stored = readFileSync(file);
    stored[PART + 10] ^= 0xff;
    writeFileSync(file, stored);
    const bad = await agentDownload(t, device.deviceToken, s);
    assert.equal(bad.complete, false, "the response must not end as if whole");
    assert.ok(bad.bytes.length <= PART, `only the verified first part may go out, not ${bad.bytes.length} bytes`);
    assert.ok(blob.subarray(0, bad.bytes.length).equals(bad.bytes), "every byte sent is a right one");
    assert.equal(await c.head(key, s), 404);

    assert.deepEqual((await c.put(key, s, blob)).body, { sha256: s, size: blob.length, created: true });
    const repaired = await agentDownload(t, device.deviceToken, s);
    assert.equal(repaired.complete, true);
    assert.ok(repaired.bytes.equals(blob));
    assert.ok(!s3.objectKeys().includes(objectKey), "the damaged object is deleted");
  });

  // Last: the store refuses this server from here on.
  test("a secret the store stops accepting: an upload answers 503, code 21, in one line naming the problem", async () => {
    const key = await t.createUser("rotated-s3");
    s3.rotateSecret();
    const blob = randomBytes(1000);
    const refused = await c.put(key, sha(blob), blob);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.resultCode, 21);
    assert.match(
      String(refused.body.error),
      /^workspace store S3 bucket fedml-workspaces at http:\/\/127\.0\.0\.1:\d+: the secret access key of AKTEST\w+ was not accepted \(SignatureDoesNotMatch\)$/,
    );
    assert.ok(!JSON.stringify(refused.body).includes(s3.secret));
  });
});
