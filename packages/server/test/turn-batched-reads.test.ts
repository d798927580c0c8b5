// Point reads asked for in one turn go out as one read (store/turn-batched-reads.ts): every
// caller gets its own id's value, an id without one reads undefined, and a failed read fails
// the callers of its ids only.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TurnBatchedReads } from "../src/store/turn-batched-reads.js";

test("reads asked in one turn are one read; the next turn's another", async () => {
  const calls: number[][] = [];
  const reads = new TurnBatchedReads<string>(async (ids) => {
    calls.push(ids);
    return new Map(ids.filter((id) => id !== 404).map((id) => [id, `v${id}`]));
  });
  const together = await Promise.all([3, 1, 404, 3].map((id) => reads.read(id)));
  assert.deepEqual(together, ["v3", "v1", undefined, "v3"]);
  assert.deepEqual(calls, [[3, 1, 404]]);
  assert.equal(await reads.read(7), "v7");
  assert.deepEqual(calls, [[3, 1, 404], [7]]);
});

test("more than a thousand ids are read a thousand at a time; a failed chunk fails its own callers only", async () => {
  const calls: number[][] = [];
  const reads = new TurnBatchedReads<number>(async (ids) => {
    calls.push(ids);
    if (ids.includes(1_500)) throw new Error("the second chunk failed");
    return new Map(ids.map((id) => [id, id * 2]));
  });
  const outcomes = await Promise.allSettled(Array.from({ length: 2_000 }, (_, i) => reads.read(i)));
  assert.deepEqual(
    calls.map((c) => c.length),
    [1_000, 1_000],
  );
  assert.deepEqual(outcomes[999], { status: "fulfilled", value: 1_998 });
  const failed = outcomes[1_000];
  assert.equal(failed.status, "rejected");
  assert.match(String((failed as PromiseRejectedResult).reason), /second chunk failed/);
});
