import assert from "node:assert/strict";
import { test } from "node:test";
import { LoopDelay } from "../src/loop-delay.js";
import { waitFor } from "../../../test/support/wait.js";

test("loop delay: an idle loop reads a delay near 0, not the sampling interval", async () => {
  const delay = new LoopDelay(20);
  try {
    await waitFor("ten samples", () => delay.samples >= 10, 10_000, 20);
    // The histogram alone would read a mean of 20 ms or more here: the timer's own interval.
    assert.ok(delay.meanMs < 15, `idle mean ${delay.meanMs} ms`);
    assert.ok(delay.meanMs >= 0);
  } finally {
    delay.stop();
  }
});

test("loop delay: a blocked loop reads as late as it was blocked", async () => {
  const delay = new LoopDelay(20);
  try {
    await waitFor("a first sample", () => delay.samples >= 1, 10_000, 20);
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // the event loop is held here, as a handler that pins it would
    }
    const before = delay.samples;
    await waitFor("a sample after the block", () => delay.samples > before, 10_000, 20);
    assert.ok(delay.percentileMs(100) >= 100, `worst ${delay.percentileMs(100)} ms`);
    delay.reset();
    assert.equal(delay.meanMs, 0, "no samples since the reset: no delay");
  } finally {
    delay.stop();
  }
});
