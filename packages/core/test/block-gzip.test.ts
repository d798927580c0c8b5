import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { blockGzip, looksRandom } from "../src/workspace/block-gzip.js";

async function gzipOf(pieces: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of blockGzip(
    (async function* () {
      yield* pieces;
    })(),
  ))
    out.push(chunk);
  return Buffer.concat(out);
}

const text = (bytes: number) => Buffer.from("step,loss,accuracy\n".repeat(Math.ceil(bytes / 19)).slice(0, bytes));

test("blocks join into one gzip member that gunzip reads back whole", async () => {
  const input = Buffer.concat([text(2_500_000), randomBytes(3_000_000), text(100)]);
  const gz = await gzipOf([input]);
  assert.deepEqual(gunzipSync(gz), input);
  assert.equal(gz[9], 0xff, "OS byte 'unknown'");
});

test("random blocks are stored, text blocks are deflated", async () => {
  const random = randomBytes(4 * 1024 * 1024);
  const stored = await gzipOf([random]);
  assert.ok(stored.length > random.length && stored.length < random.length * 1.001, `stored: ${stored.length}`);
  const compressed = await gzipOf([text(4 * 1024 * 1024)]);
  assert.ok(compressed.length < 1024 * 1024, `deflated: ${compressed.length}`);
  assert.equal(looksRandom(random.subarray(0, 1024 * 1024)), true);
  assert.equal(looksRandom(text(1024 * 1024)), false);
});

test("the same bytes give the same gzip however they are cut into pieces", async () => {
  const input = Buffer.concat([text(1_500_000), randomBytes(1_500_000)]);
  const whole = await gzipOf([input]);
  const pieces: Buffer[] = [];
  for (let at = 0; at < input.length; at += 77_777) pieces.push(input.subarray(at, at + 77_777));
  assert.deepEqual(await gzipOf(pieces), whole);
  const empty = await gzipOf([]);
  assert.equal(gunzipSync(empty).length, 0);
});
