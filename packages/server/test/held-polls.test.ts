// Held assignments polls on shared structures (one re-check tick, one wake-up listener of every
// topic, one answer callback): each wait still ends on time, by itself, exactly once.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { waitFor } from "../../../test/support/wait.js";
import { HeldPolls, POLL_RECHECK_MS } from "../src/devices/held-polls.js";
import { EXPIRY_SLOT_MS } from "../src/held-waits.js";
import { NotifyHub, deviceTopic } from "../src/notify.js";
import { shiftedClock } from "./support/clock.js";
import { deviceFacts, startTestServer } from "./support/server.js";

interface Outcome {
  changed: boolean;
  error?: unknown;
  afterMs: number;
  calls: number;
}

/** What each test poll's answer goes to. */
interface Waiting {
  started: number;
  /** Its client hung up (what `gone` reports on the shared tick). */
  gone?: boolean;
  outcome: Outcome;
  resolve: (o: Outcome) => void;
}

/** Held polls whose answers resolve their waiting promises (and count the calls). */
function heldPolls(hub: NotifyHub, changed: (deviceId: number, since: number) => Promise<boolean>, recheckMs?: number) {
  return new HeldPolls<Waiting>({
    hub,
    changed,
    recheckMs,
    gone: (waiting) => waiting.gone === true,
    answer: (_poll, waiting, changed, error) => {
      const { outcome } = waiting;
      outcome.calls++;
      outcome.changed = changed;
      outcome.error = error;
      outcome.afterMs = performance.now() - waiting.started;
      waiting.resolve(outcome);
    },
  });
}

/** Held polls over one version shared by every device, counting the checks they make. */
function countedPolls(hub: NotifyHub, recheckMs?: number) {
  const state = { version: 0, checks: 0 };
  const polls = heldPolls(
    hub,
    async (_id, since) => {
      state.checks++;
      return state.version > since;
    },
    recheckMs,
  );
  return { polls, state };
}

/** Held polls that never see a change, counting their checks and how often the tick asks whether a client hung up. */
function visitedPolls(hub: NotifyHub, periods: { recheckMs?: number; goneCheckMs: number }) {
  const state = { checks: 0, goneAsked: 0 };
  const polls = new HeldPolls<Waiting>({
    hub,
    changed: async () => {
      state.checks++;
      return false;
    },
    ...periods,
    gone: (waiting) => {
      state.goneAsked++;
      return waiting.gone === true;
    },
    answer: (_poll, waiting, changed) => {
      waiting.outcome.calls++;
      waiting.outcome.changed = changed;
      waiting.resolve(waiting.outcome);
    },
  });
  return { polls, state };
}

/** Holds a poll; resolves with its outcome and how long it took. */
function holdOne(polls: HeldPolls<Waiting>, deviceId: number, since: number, waitMs: number) {
  const outcome: Outcome = { changed: false, afterMs: -1, calls: 0 };
  let resolve!: (o: Outcome) => void;
  const answered = new Promise<Outcome>((r) => {
    resolve = r;
  });
  const poll = polls.hold(deviceId, since, waitMs, Date.now(), { started: performance.now(), outcome, resolve });
  return { poll, answered, outcome };
}

describe("HeldPolls", () => {
  test("every held poll is answered at its own deadline, once", async () => {
    const hub = new NotifyHub(60_000);
    const polls = heldPolls(hub, async () => false, 60_000);
    // Deadlines out of order and some equal: the earliest first, each on time.
    const waits = Array.from({ length: 300 }, (_, i) => 100 + ((i * 37) % 400));
    const held = waits.map((waitMs, i) => holdOne(polls, i, 0, waitMs));
    assert.equal(polls.size, 300);
    // Deadlines come in order: once this one is answered, a second answer of any other would have come.
    const last = holdOne(polls, 1_000, 0, Math.max(...waits) + 50);
    const outcomes = await Promise.all(held.map((h) => h.answered));
    outcomes.forEach((o, i) => {
      assert.equal(o.changed, false);
      // Held to the end of its deadline's slot, and says so.
      const { holdMs } = held[i].poll;
      assert.ok(holdMs >= waits[i] && holdMs <= waits[i] + EXPIRY_SLOT_MS, `poll ${i} held ${holdMs} ms for ${waits[i]}`);
      assert.ok(o.afterMs >= waits[i] - 1, `poll ${i} answered after ${o.afterMs.toFixed(1)} ms of its ${waits[i]}`);
      // Generous for a loaded machine: on time is within a timer's lateness, not a tick's.
      assert.ok(o.afterMs < waits[i] + 500, `poll ${i} answered after ${o.afterMs.toFixed(1)} ms of its ${waits[i]}`);
    });
    await last.answered;
    assert.ok(outcomes.every((o) => o.calls === 1));
    assert.equal(polls.size, 0);
    await hub.close();
  });

  test("polls whose deadlines fall in one expiry slot end together, in one turn of the event loop", async () => {
    const hub = new NotifyHub(60_000);
    const polls = heldPolls(hub, async () => false, 60_000);
    // Deadlines a millisecond apart, all within one slot (a timer each would end them in turns of their own).
    const slotEnd = (Math.ceil((performance.now() + 200) / EXPIRY_SLOT_MS) + 1) * EXPIRY_SLOT_MS;
    // 3 ms clear of both of the slot's ends, for the time between reading the clock here and in hold().
    const held = Array.from({ length: 5 }, (_, i) => holdOne(polls, i, 0, slotEnd - 3 - i - performance.now()));
    let turn = 0;
    let turning = true;
    const count = () => {
      turn++;
      if (turning) setImmediate(count);
    };
    setImmediate(count);
    const turns = new Set<number>();
    await Promise.all(held.map((h) => h.answered.then(() => turns.add(turn))));
    turning = false;
    assert.equal(turns.size, 1, `answered over turns ${[...turns].join(", ")}`);
    for (const h of held) assert.equal(h.outcome.calls, 1);
    await hub.close();
  });

  test("a wait far past the others still ends at its deadline once the near ones have ended", async () => {
    const hub = new NotifyHub(60_000);
    const polls = heldPolls(hub, async () => false, 60_000);
    // 1.6 s is past the slots looked at one by one after the 150 ms wait ends.
    const near = holdOne(polls, 1, 0, 150);
    const far = holdOne(polls, 2, 0, 1_600);
    assert.ok((await near.answered).afterMs < 1_000);
    assert.equal(far.outcome.calls, 0);
    const o = await far.answered;
    assert.ok(o.afterMs >= 1_599 && o.afterMs < 2_100, `answered after ${o.afterMs.toFixed(1)} ms`);
    assert.equal(polls.size, 0);
    await hub.close();
  });

  test("a notification of the device's topic answers its poll at once, and only its poll", async () => {
    const hub = new NotifyHub(60_000);
    const versions = new Map<number, number>([
      [1, 0],
      [2, 0],
    ]);
    const polls = heldPolls(hub, async (id, since) => (versions.get(id) ?? 0) > since, 60_000);
    const one = holdOne(polls, 1, 0, 30_000);
    const two = holdOne(polls, 2, 0, 400);
    versions.set(1, 1);
    hub.notify(deviceTopic(1));
    const o = await one.answered;
    assert.equal(o.changed, true);
    assert.ok(o.afterMs < 5_000, `answered after ${o.afterMs} ms`);
    assert.equal((await two.answered).changed, false);
    await hub.close();
  });

  test("two polls of one device: ending one leaves the other, which its device's notification wakes", async () => {
    const hub = new NotifyHub(60_000);
    let version = 0;
    const polls = heldPolls(hub, async (_id, since) => version > since, 60_000);
    const first = holdOne(polls, 3, 0, 30_000);
    const second = holdOne(polls, 3, 0, 30_000);
    polls.end(first.poll);
    assert.equal((await first.answered).changed, false);
    version = 1;
    hub.notify(deviceTopic(4));
    hub.notify(deviceTopic(3));
    const o = await second.answered;
    assert.equal(o.changed, true);
    assert.ok(o.afterMs < 5_000, `answered after ${o.afterMs} ms`);
    assert.equal(polls.size, 0);
    await hub.close();
  });

  test("notifications possibly missed (deliverAll) re-check every held poll", async () => {
    const hub = new NotifyHub(60_000);
    const { polls, state } = countedPolls(hub, 60_000);
    const held = [holdOne(polls, 1, 0, 30_000), holdOne(polls, 2, 0, 30_000)];
    // Both first checks found nothing: only the re-check deliverAll asks for can see the change.
    await waitFor("both first checks", () => state.checks >= 2);
    state.version = 1;
    hub.deliverAll();
    for (const o of await Promise.all(held.map((h) => h.answered))) {
      assert.equal(o.changed, true);
      assert.ok(o.afterMs < 5_000);
    }
    await hub.close();
  });

  test("without a notification the shared tick finds the change within about a period", async () => {
    const hub = new NotifyHub(60_000);
    const { polls, state } = countedPolls(hub, 200);
    const h = holdOne(polls, 5, 0, 30_000);
    // After the first check found nothing: only a re-check can see it.
    await waitFor("the first check", () => state.checks >= 1);
    const checksBefore = state.checks;
    state.version = 1;
    const o = await h.answered;
    assert.equal(o.changed, true);
    assert.ok(state.checks > checksBefore, "answered by a later check");
    assert.ok(o.afterMs < 5_000, `answered after ${o.afterMs} ms`);
    await hub.close();
  });

  test("hang-ups are asked about on every visit of the tick, re-reads on one in recheckMs / goneCheckMs", async () => {
    const hub = new NotifyHub(60_000);
    const { polls, state } = visitedPolls(hub, { recheckMs: 200, goneCheckMs: 50 });
    const held = Array.from({ length: 40 }, (_, i) => holdOne(polls, i, 0, 30_000));
    // Each poll's first check is at its hold; the rest are the tick's.
    assert.equal(state.checks, 40);
    await waitFor("eight turns of the tick over every poll", () => state.goneAsked >= 8 * 40);
    // Both counts move together, in the tick: a re-read on one visit in four, spread over the turns.
    const perVisit = (state.checks - 40) / state.goneAsked;
    assert.ok(
      perVisit > 0.15 && perVisit < 0.35,
      `re-reads per visit ${perVisit.toFixed(3)} (${state.checks - 40} of ${state.goneAsked})`,
    );
    const hungUp = held[7];
    (hungUp.poll.context as Waiting).gone = true;
    assert.equal((await hungUp.answered).changed, false);
    for (const h of held) polls.end(h.poll);
    await Promise.all(held.map((h) => h.answered));
    assert.ok(held.every((h) => h.outcome.calls === 1));
    await hub.close();
  });

  test("by default a poll re-reads its device's version every POLL_RECHECK_MS, still looking for hang-ups each goneCheckMs", async () => {
    const hub = new NotifyHub(60_000);
    const { polls, state } = visitedPolls(hub, { goneCheckMs: 20 });
    const held = Array.from({ length: 40 }, (_, i) => holdOne(polls, i, 0, 30_000));
    await waitFor("eight turns of the tick over every poll", () => state.goneAsked >= 8 * 40);
    const expected = 20 / POLL_RECHECK_MS;
    const perVisit = (state.checks - 40) / state.goneAsked;
    assert.ok(perVisit <= 2 * expected + 0.005, `re-reads per visit ${perVisit.toFixed(4)}, expected about ${expected}`);
    for (const h of held) polls.end(h.poll);
    await Promise.all(held.map((h) => h.answered));
    await hub.close();
  });

  test("end() answers at once, and the deadline later does not answer again", async () => {
    const hub = new NotifyHub(60_000);
    const polls = heldPolls(hub, async () => false, 60_000);
    const h = holdOne(polls, 9, 0, 200);
    // Answered at its deadline, after the one above's: by then a second answer would have come.
    const later = holdOne(polls, 10, 0, 250);
    polls.end(h.poll);
    const o = await h.answered;
    assert.equal(o.changed, false);
    assert.ok(o.afterMs < 150, `answered after ${o.afterMs} ms`);
    assert.equal(polls.size, 1);
    await later.answered;
    assert.equal(o.calls, 1);
    await hub.close();
  });

  test("polls whose clients hung up end on the shared tick, each answered once; the rest stay held, and nothing is kept after", async () => {
    const hub = new NotifyHub(60_000);
    const { polls, state } = countedPolls(hub, 100);
    const held = Array.from({ length: 40 }, (_, i) => holdOne(polls, i, 0, 30_000));
    const waiting = (h: (typeof held)[number]) => h.poll.context as Waiting;
    const hungUp = held.filter((_, i) => i % 2 === 0);
    for (const h of hungUp) waiting(h).gone = true;
    for (const o of await Promise.all(hungUp.map((h) => h.answered))) {
      assert.equal(o.changed, false);
      assert.ok(o.afterMs < 5_000, `answered after ${o.afterMs} ms`);
    }
    assert.equal(polls.size, 20);
    // The others are still checked on the tick (and not answered by it).
    const checks = state.checks;
    await waitFor("the tick re-checks the rest", () => state.checks >= checks + 20);
    assert.ok(held.filter((_, i) => i % 2 === 1).every((h) => h.outcome.calls === 0));
    for (const h of held.filter((_, i) => i % 2 === 1)) polls.end(h.poll);
    await Promise.all(held.map((h) => h.answered));
    assert.ok(held.every((h) => h.outcome.calls === 1));
    assert.equal(polls.size, 0);
    await hub.close();
  });

  test("a failing check answers with its error; the hub closing ends every wait", async () => {
    const hub = new NotifyHub(60_000);
    const failing = heldPolls(hub, async () => {
      throw new Error("database gone");
    });
    const f = await holdOne(failing, 1, 0, 30_000).answered;
    assert.match(String(f.error), /database gone/);
    // Its version never moves: every check finds nothing.
    const { polls, state } = countedPolls(hub, 60_000);
    const held = [holdOne(polls, 1, 0, 30_000), holdOne(polls, 1, 0, 30_000), holdOne(polls, 2, 0, 30_000)];
    await waitFor("the first checks", () => state.checks >= 3);
    await hub.close();
    for (const o of await Promise.all(held.map((h) => h.answered))) {
      assert.equal(o.changed, false);
      assert.ok(o.afterMs < 5_000);
    }
  });
});

test("through the API, an agent hanging up ends its held poll then: it is heard again at the hang-up, not at the wait's end", async () => {
  const shifted = shiftedClock();
  const t = await startTestServer({ clock: shifted.clock });
  try {
    const key = await t.createUser("hang-up");
    const device = await t.registerDevice(key, deviceFacts("hang-up"));
    const lastSeen = async () =>
      Number(
        (
          await t.server.store.db
            .selectFrom("devices")
            .select("last_seen_at")
            .where("id", "=", Number(device.deviceId))
            .executeTakeFirstOrThrow()
        ).last_seen_at,
      );
    const { version } = (await t.call(device.deviceToken, "GET", "/api/v1/agent/assignments?waitMs=0")).body;
    const sentAt = shifted.clock.wall();
    const hangUp = new AbortController();
    const held = fetch(`${t.url}/api/v1/agent/assignments?since=${version}&waitMs=60000`, {
      headers: { authorization: `Bearer ${device.deviceToken}` },
      signal: hangUp.signal,
    }).catch(() => undefined);
    // Heard when it came: the poll is held from then on.
    await waitFor("the poll heard", async () => (await lastSeen()) >= sentAt, 10_000);
    // The wall clock moves past the re-touch threshold; a poll ended now is heard at the new time.
    shifted.stepWall(5_000);
    const hungUpAt = shifted.clock.wall();
    hangUp.abort();
    await held;
    await waitFor("the device heard again at the hang-up", async () => (await lastSeen()) >= hungUpAt, 10_000);
  } finally {
    await t.stop();
  }
});
