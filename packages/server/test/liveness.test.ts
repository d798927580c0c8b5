import assert from "node:assert/strict";
import { test } from "node:test";
import type { Clock } from "../src/clock.js";
import { ServerLiveness } from "../src/devices/liveness.js";
import { billableMs } from "../src/billing/part-cost.js";

/** A clock the test moves by hand. */
function handClock(wall = 1_000_000, mono = 0) {
  const clock = { wall, mono };
  const c: Clock = { wall: () => clock.wall, mono: () => clock.mono };
  return {
    clock: c,
    /** Time passes normally. */
    pass(ms: number) {
      clock.wall += ms;
      clock.mono += ms;
    },
    /** Time passes normally while the server watches (ticks of 50 ms). */
    live(live: ServerLiveness, ms: number) {
      for (let t = 0; t < ms; t += 50) {
        clock.wall += 50;
        clock.mono += 50;
        live.observe();
      }
    },
    /** Only the wall clock moves (an NTP step or an operator). */
    stepWall(ms: number) {
      clock.wall += ms;
    },
  };
}

test("liveness: silence is judged only after the server itself was live for the window", () => {
  const h = handClock();
  const live = new ServerLiveness(h.clock, 100);
  assert.equal(live.silentBefore(300), null, "grace right after the start");
  for (let i = 0; i < 3; i++) {
    h.pass(100);
    live.observe();
  }
  assert.equal(live.silentBefore(300), h.clock.wall() - 300);
  assert.equal(live.heardWithin(h.clock.wall() - 299, 300), true);
  assert.equal(live.heardWithin(h.clock.wall() - 301, 300), false);
  assert.equal(live.heardWithin(null, 300), false);
});

test("liveness: a test taken for many devices judges them all at the moment it was taken", () => {
  const h = handClock();
  const live = new ServerLiveness(h.clock, 100);
  const inGrace = live.heardWithinTest(300);
  h.live(live, 400);
  const now = h.clock.wall();
  const heardNow = live.heardWithinTest(300);
  const seen = [null, now - 301, now - 300, now - 10, now, now + 300, now + 301];
  assert.deepEqual(
    seen.map(heardNow),
    seen.map((s) => live.heardWithin(s, 300)),
  );
  assert.deepEqual(seen.map(heardNow), [false, false, true, true, true, true, false]);
  // Taken in grace, it stays a grace test; taken now, it judges as of now after time passed.
  assert.equal(inGrace(null), true);
  h.live(live, 100);
  assert.equal(heardNow(now - 300), true);
  assert.equal(live.heardWithin(now - 300, 300), false);
});

test("liveness: a stall (SIGSTOP, VM pause) starts a fresh grace period", () => {
  const h = handClock();
  const live = new ServerLiveness(h.clock, 100);
  for (let i = 0; i < 10; i++) {
    h.pass(50);
    live.observe();
  }
  const lastHeard = h.clock.wall();
  h.pass(40_000); // the server was stopped for 40 s
  assert.equal(live.heardWithin(lastHeard, 300), true, "not judged right after the stall");
  assert.equal(live.silentBefore(300), null);
  assert.equal(live.stallCount, 1);
  for (let i = 0; i < 6; i++) {
    h.pass(50);
    live.observe();
  }
  assert.equal(live.heardWithin(lastHeard, 300), false, "silent once a full window passed after the stall");
});

test("liveness: wall-clock steps forward and back start a fresh grace; a last word from the future expires", () => {
  const h = handClock();
  const live = new ServerLiveness(h.clock, 100);
  h.live(live, 500);
  const heard = h.clock.wall();
  h.stepWall(3_600_000);
  assert.equal(live.silentBefore(300), null, "+1 h step: grace");
  h.live(live, 400);
  assert.equal(live.heardWithin(heard, 300), false);
  assert.equal(live.heardWithin(h.clock.wall() - 10, 300), true);

  const beforeBack = h.clock.wall();
  h.stepWall(-3_600_000);
  assert.equal(live.heardWithin(beforeBack, 300), true, "-1 h step: grace");
  h.live(live, 400);
  assert.equal(live.heardWithin(beforeBack, 300), false, "a last word from the future does not keep a device online");
  assert.equal(live.stallCount, 2);
});

test("billing: from start to end, cut at the stop request, never above the agent's monotonic runtime", () => {
  const part = { started_at: 1000, ended_at: 11_000, stop_requested_at: null, runtime_ms: null };
  assert.equal(billableMs(part, 99_999), 10_000);
  assert.equal(billableMs({ ...part, stop_requested_at: 4000 }, 99_999), 3000);
  assert.equal(billableMs({ ...part, runtime_ms: 2500 }, 99_999), 2500);
  // A wall step of +1 h between start and end bills only what the agent measured.
  assert.equal(billableMs({ ...part, ended_at: 11_000 + 3_600_000, runtime_ms: 10_000 }, 0), 10_000);
  assert.equal(billableMs({ ...part, ended_at: null }, 5000), 4000);
  assert.equal(billableMs({ ...part, started_at: null }, 5000), 0);
  assert.equal(billableMs({ ...part, stop_requested_at: 500 }, 5000), 0);
});

test("liveness: an overloaded event loop starts a new trusted window, as a stall does", () => {
  const h = handClock();
  const live = new ServerLiveness(h.clock, 1000, 200);
  h.live(live, 500);
  assert.notEqual(live.silentBefore(300), null, "trusted after a window of healthy ticks");
  // The watch ticks on time, but the loop ran a mean 250 ms late: polls may sit unread.
  h.pass(50);
  assert.equal(live.observe(250), true);
  assert.equal(live.isOverloaded, true);
  assert.equal(live.silentBefore(300), null, "no silence judged across the overload");
  assert.equal(live.heardWithin(0, 300), true, "every device counts as heard meanwhile");
  h.pass(50);
  assert.equal(live.observe(150), false, "a delay under the bound is no overload");
  assert.equal(live.isOverloaded, false);
  h.live(live, 300);
  assert.notEqual(live.silentBefore(300), null, "trusted again a window after it keeps up");
  assert.equal(live.overloadCount, 1);
  assert.equal(live.stallCount, 0);
});
