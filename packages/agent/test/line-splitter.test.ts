import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createLineSplitter } from "../src/runner/line-splitter.js";

describe("createLineSplitter", () => {
  test("lines across chunks, CRLF, and the partial last line at the end", () => {
    const s = createLineSplitter();
    assert.deepEqual(s.push("hel"), []);
    assert.deepEqual(s.push("lo\nwor"), ["hello"]);
    assert.deepEqual(s.push("ld\r\n\nlast"), ["world", ""]);
    assert.deepEqual(s.end(), ["last"]);
    assert.deepEqual(s.end(), []);
  });

  test("a UTF-8 character split between chunks stays whole", () => {
    const s = createLineSplitter();
    const bytes = Buffer.from("héllo ✓\n");
    const out = [...s.push(bytes.subarray(0, 2)), ...s.push(bytes.subarray(2, 9)), ...s.push(bytes.subarray(9))];
    assert.deepEqual(out, ["héllo ✓"]);
  });

  test("over-long lines are cut into pieces of at most the limit", () => {
    const s = createLineSplitter(4);
    assert.deepEqual(s.push("abcdefghij\nxy"), ["abcd", "efgh", "ij"]);
    assert.deepEqual(s.push("zzzzz"), ["xyzz"]);
    assert.deepEqual(s.end(), ["zzz"]);
  });

  test("the default limit is 64 KiB", () => {
    const s = createLineSplitter();
    const out = s.push(`${"a".repeat(64 * 1024 * 2 + 5)}\n`);
    assert.deepEqual(
      out.map((l) => l.length),
      [65536, 65536, 5],
    );
  });
});
