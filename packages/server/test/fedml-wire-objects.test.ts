import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { decodeAwsChunked, isAwsChunked } from "../src/fedml-wire/aws-chunked.js";
import { configJobYaml, objectKeyOf, wireJobYaml } from "../src/fedml-wire/launch.js";
import { WireObjects } from "../src/fedml-wire/object-store.js";
import type { Store } from "../src/store/db.js";
import { migrateToLatest } from "../src/store/migrations.js";
import { openTestStore } from "./support/database.js";
import { tempDir } from "./support/tmp.js";

// The objects live in the database (SQLite here, PostgreSQL in the second pass).
const tmp = tempDir("wire-objects");
let db: Store;
before(async () => {
  db = await openTestStore(tmp.dir);
  await migrateToLatest(db.db, db.dialect);
});
after(async () => {
  await db.close();
  tmp.cleanup();
});

let clock = 0;
async function store(limits = { maxObjectBytes: 10, maxTotalBytes: 15, ttlMs: 1000 }) {
  await db.db.deleteFrom("wire_chunks").execute();
  await db.db.deleteFrom("wire_uploads").execute();
  const objects = new WireObjects(db.db, limits, () => clock);
  return { objects, advance: (ms: number) => (clock += ms) };
}

test("unclaimed objects are bounded in size, in total, and in lifetime", async () => {
  const { objects, advance } = await store();
  assert.match((await objects.put("big", Buffer.alloc(11))) ?? "", /larger than 10 bytes/);
  assert.equal(await objects.put("a", Buffer.alloc(10)), null);
  assert.match((await objects.put("b", Buffer.alloc(6))) ?? "", /too many unclaimed uploads/);
  // Replacing a key frees its old bytes first.
  assert.equal(await objects.put("a", Buffer.alloc(5)), null);
  assert.equal(await objects.put("b", Buffer.alloc(10)), null);
  advance(999);
  assert.equal((await objects.get("a"))?.length, 5);
  advance(2);
  assert.equal(await objects.get("a"), undefined);
  assert.equal(await objects.put("c", Buffer.alloc(10)), null, "expired objects no longer count");
});

test("a claimed object is handed out once, even to two claims at once; big objects come back whole", async () => {
  const { objects } = await store({ maxObjectBytes: 5_000_000, maxTotalBytes: 10_000_000, ttlMs: 1000 });
  await objects.put("k", Buffer.from("zip"));
  const claims = await Promise.all([objects.take("k"), objects.take("k")]);
  assert.deepEqual(claims.map((c) => c?.toString()).sort(), ["zip", undefined].sort());
  assert.equal(await objects.take("k"), undefined);
  assert.equal(await objects.get("k"), undefined);
  // Across several 1 MiB chunks, in order.
  const big = Buffer.alloc(3_500_000);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  assert.equal(await objects.put("big", big), null);
  assert.ok((await objects.get("big"))?.equals(big));
});

test("a relaunch with a new config keeps the base run's workspace; the config's keys win", () => {
  const yaml = configJobYaml("workspace: src\njob: echo old\ncomputing:\n  minimum_num_gpus: 1\n", {
    workspace: "elsewhere",
    job: "echo new",
    job_args: { job_id: "7" },
  });
  assert.equal(
    yaml,
    ["workspace: src", "job: echo new", "computing:", "  minimum_num_gpus: 1", "job_args:", '  job_id: "7"', ""].join("\n"),
  );
  assert.equal(configJobYaml("job: echo old\n", { workspace: "x", job: "echo new" }), "job: echo new\n");
});

test("a fileUrl names an object only path-style under the bucket", () => {
  assert.equal(objectKeyOf("http://h:1/fedml/job%40abc?X-Amz-Signature=1"), "job@abc");
  assert.equal(objectKeyOf("http://h:1/other/job"), null);
  assert.equal(objectKeyOf("http://h:1/fedml/"), null);
  assert.equal(objectKeyOf("not a url"), null);
  assert.equal(objectKeyOf("http://h:1/fedml/%E0%A4%A"), null);
});

test("the run's YAML: the package's scripts are the job and bootstrap, config keys added, registered keys win", () => {
  const yaml = wireJobYaml(
    { workspace: "src", job: "ignored", bootstrap: "ignored", job_name: "j", data_args: { dataset_name: "b" } },
    {
      job: "echo job\n",
      bootstrap: "echo boot\n",
      extraKeys: { bootstrap: "x.sh", data_args: { dataset_name: "a" }, model_args: { m: 1 } },
    },
  );
  assert.equal(
    yaml,
    [
      "data_args:",
      "  dataset_name: b",
      "model_args:",
      "  m: 1",
      "job_name: j",
      "workspace: fedml",
      "job: |",
      "  echo job",
      "bootstrap: |",
      "  echo boot",
      "",
    ].join("\n"),
  );
});

test("multipart parts count against the bounds and expire unfinished", async () => {
  const { objects, advance } = await store();
  const id = await objects.startMultipart("m");
  assert.equal(await objects.putPart(id, 2, Buffer.from("world")), null);
  assert.equal(await objects.putPart(id, 1, Buffer.from("hello")), null);
  assert.match((await objects.putPart(id, 3, Buffer.from("!"))) ?? "", /larger than 10 bytes/);
  assert.match((await objects.putPart(id, 0, Buffer.from("x"))) ?? "", /partNumber/);
  assert.deepEqual(await objects.completeMultipart(id, [1, 4]), { refused: "part 4 was not uploaded" });
  assert.deepEqual(await objects.completeMultipart(id, [2, 1]), { key: "m" });
  assert.equal((await objects.get("m"))?.toString(), "helloworld");
  const stale = await objects.startMultipart("s");
  assert.equal(await objects.putPart(stale, 1, Buffer.alloc(5)), null);
  assert.match((await objects.put("x", Buffer.alloc(1))) ?? "", /too many/);
  advance(1001);
  assert.equal(await objects.putPart(stale, 2, Buffer.alloc(1)), "no such upload (expired or never begun)");
  assert.equal(await objects.put("x", Buffer.alloc(10)), null);
});

test("aws-chunked bodies decode to their payload; broken framing is refused", () => {
  const framed = Buffer.from(
    "5;chunk-signature=ab\r\nhello\r\n6;chunk-signature=cd\r\n world\r\n0;chunk-signature=ef\r\nx-amz-checksum-crc32:AAAA\r\n\r\n",
  );
  assert.equal(decodeAwsChunked(framed)?.toString(), "hello world");
  assert.equal(decodeAwsChunked(Buffer.from("3\r\nabc\r\n0\r\n\r\n"))?.toString(), "abc");
  assert.equal(decodeAwsChunked(Buffer.from("5\r\nabc\r\n0\r\n")), null);
  assert.equal(decodeAwsChunked(Buffer.from("zz\r\nabc\r\n")), null);
  assert.equal(decodeAwsChunked(Buffer.from("3\r\nabc")), null);
  assert.ok(isAwsChunked({ "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER" }));
  assert.ok(isAwsChunked({ "content-encoding": "aws-chunked" }));
  assert.ok(!isAwsChunked({ "x-amz-content-sha256": "abc" }));
});
