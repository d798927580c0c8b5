import assert from "node:assert/strict";
import { test } from "node:test";
import { WireObjects } from "../src/fedml-wire/object-store.js";
import { decodeAwsChunked, isAwsChunked } from "../src/fedml-wire/aws-chunked.js";
import { objectKeyOf, wireJobYaml } from "../src/fedml-wire/launch.js";

function store(limits = { maxObjectBytes: 10, maxTotalBytes: 15, ttlMs: 1000 }) {
  let now = 0;
  const objects = new WireObjects(limits, () => now);
  return { objects, advance: (ms: number) => (now += ms) };
}

test("unclaimed objects are bounded in size, in total, and in lifetime", () => {
  const { objects, advance } = store();
  assert.match(objects.put("big", Buffer.alloc(11)) ?? "", /larger than 10 bytes/);
  assert.equal(objects.put("a", Buffer.alloc(10)), null);
  assert.match(objects.put("b", Buffer.alloc(6)) ?? "", /too many unclaimed uploads/);
  // Replacing a key frees its old bytes first.
  assert.equal(objects.put("a", Buffer.alloc(5)), null);
  assert.equal(objects.put("b", Buffer.alloc(10)), null);
  advance(999);
  assert.equal(objects.get("a")?.length, 5);
  advance(2);
  assert.equal(objects.get("a"), undefined);
  assert.equal(objects.put("c", Buffer.alloc(10)), null, "expired objects no longer count");
});

test("a claimed object is handed out once", () => {
  const { objects } = store();
  objects.put("k", Buffer.from("zip"));
  assert.equal(objects.take("k")?.toString(), "zip");
  assert.equal(objects.take("k"), undefined);
  assert.equal(objects.get("k"), undefined);
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

test("multipart parts count against the bounds and expire unfinished", () => {
  const { objects, advance } = store();
  const id = objects.startMultipart("m");
  assert.equal(objects.putPart(id, 2, Buffer.from("world")), null);
  assert.equal(objects.putPart(id, 1, Buffer.from("hello")), null);
  assert.match(objects.putPart(id, 3, Buffer.from("!")) ?? "", /larger than 10 bytes/);
  assert.match(objects.putPart(id, 0, Buffer.from("x")) ?? "", /partNumber/);
  assert.deepEqual(objects.completeMultipart(id, [1, 4]), { refused: "part 4 was not uploaded" });
  assert.deepEqual(objects.completeMultipart(id, [2, 1]), { key: "m" });
  assert.equal(objects.get("m")?.toString(), "helloworld");
  const stale = objects.startMultipart("s");
  assert.equal(objects.putPart(stale, 1, Buffer.alloc(5)), null);
  assert.match(objects.put("x", Buffer.alloc(1)) ?? "", /too many/);
  advance(1001);
  assert.equal(objects.putPart(stale, 2, Buffer.alloc(1)), "no such upload (expired or never begun)");
  assert.equal(objects.put("x", Buffer.alloc(10)), null);
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
