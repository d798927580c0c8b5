// A held poll's hold: up to a sixteenth of its wait less, at random, so that polls taken on
// together do not all end together (devices/assignment-polls.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { HOLD_JITTER_SHARE, holdTiming, jitteredHoldMs } from "../src/devices/assignment-polls.js";

test("a hold is the wait less up to a sixteenth of it, whole milliseconds, never longer", () => {
  assert.equal(HOLD_JITTER_SHARE, 1 / 16);
  assert.equal(
    jitteredHoldMs(10_000, () => 0),
    10_000,
  );
  assert.equal(
    jitteredHoldMs(10_000, () => 0.5),
    9_688,
  );
  // Math.random stays below 1: the shortest hold is just over 15/16 of the wait.
  assert.equal(
    jitteredHoldMs(10_000, () => 0.999_999),
    9_376,
  );
  assert.equal(
    jitteredHoldMs(0, () => 0.7),
    0,
  );
  assert.equal(
    jitteredHoldMs(15, () => 0.999),
    15,
  );
});

test("polls taken on in one turn get holds spread over the jitter's whole width", () => {
  let seed = 7;
  // A fixed sequence (a linear congruential generator) stands in for Math.random.
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const holds = Array.from({ length: 1_000 }, () => jitteredHoldMs(10_000, random));
  assert.ok(Math.min(...holds) >= 9_375 && Math.max(...holds) <= 10_000);
  // In each tenth of the window about a tenth of the polls: none piles up.
  const bins = new Array<number>(10).fill(0);
  for (const hold of holds) bins[Math.min(9, Math.floor((10_000 - hold) / 62.5))]++;
  for (const n of bins) assert.ok(n > 60 && n < 140, `bins ${bins.join(",")}`);
});

test("the answer's Server-Timing names the hold", () => {
  assert.equal(holdTiming(9_412), "hold;dur=9412");
});
