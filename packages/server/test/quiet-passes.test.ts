import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type QuietCheck, QuietPasses } from "../src/scheduler/quiet-passes.js";

describe("quiet passes: when a pass may be skipped", () => {
  const check = (over: Partial<{ version: number; now: number; seen: (number | null)[] }> = {}): QuietCheck => ({
    version: async () => over.version ?? 7,
    lastSeen: async (ids) => over.seen ?? ids.map(() => 0),
    isOnline: (seen) => seen !== null && seen >= 1_000,
    now: () => over.now ?? 5_000,
  });

  test("nothing remembered, or forgotten: never", async () => {
    const quiet = new QuietPasses(30_000);
    assert.equal(await quiet.holds(check()), false);
    quiet.remember({ version: 7, at: 4_000, silent: [] });
    assert.equal(await quiet.holds(check()), true);
    quiet.forget();
    assert.equal(await quiet.holds(check()), false);
  });

  test("the marker moved, or the quiet is as old as the safety net: not", async () => {
    const quiet = new QuietPasses(30_000);
    quiet.remember({ version: 7, at: 4_000, silent: [] });
    assert.equal(await quiet.holds(check({ version: 8 })), false);
    assert.equal(await quiet.holds(check({ now: 33_999 })), true);
    assert.equal(await quiet.holds(check({ now: 34_000 })), false);
  });

  test("a device found silent and heard from since: not", async () => {
    const quiet = new QuietPasses(30_000);
    quiet.remember({ version: 7, at: 4_000, silent: [3, 4] });
    assert.equal(await quiet.holds(check({ seen: [0, null] })), true);
    assert.equal(await quiet.holds(check({ seen: [0, 4_500] })), false);
  });

  test("too many silent devices to check: not remembered", async () => {
    const quiet = new QuietPasses(30_000);
    quiet.remember({ version: 7, at: 4_000, silent: Array.from({ length: 501 }, (_, i) => i) });
    assert.equal(await quiet.holds(check()), false);
  });
});
