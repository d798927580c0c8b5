import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TestServer, deviceFacts, startTestServer } from "./support/server.js";

// Short enough for a quick test, long enough that this process's own poll loops, starved on
// a loaded machine (PostgreSQL on the same two cores), still poll within it: at 1 s a device
// was now and then swept offline between two of its polls, rightly.
const OFFLINE_AFTER_MS = 2500;
const DEVICES = 20;

let t: TestServer;
let deviceWrites = 0;
before(async () => {
  t = await startTestServer({
    offlineAfterMs: OFFLINE_AFTER_MS,
    testHooks: {
      beforeWrite: (w) => {
        if (w.kind === "update" && w.table === "devices") deviceWrites++;
      },
    },
  });
});
after(() => t.stop());

test("many devices' polls are written as batched heartbeats, and every polling device stays online", async () => {
  const key = await t.createUser("hb");
  const tokens: string[] = [];
  for (let i = 0; i < DEVICES; i++) tokens.push((await t.registerDevice(key, deviceFacts(`hb-${i}`))).deviceToken);
  for (const token of tokens) await t.call(token, "POST", "/api/v1/agent/hello", { facts: deviceFacts("x"), activeRunIds: [] });

  const before = (await t.call(key, "GET", "/api/v1/devices")).body.deviceList as { lastSeenTime: number | null }[];
  // Every device polls back to back (short holds) for three offline windows, all at once;
  // once each has polled, none may be seen OFFLINE while it keeps polling.
  let polls = 0;
  let firstPolls = 0;
  let writesAtStart = 0;
  let allStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    allStarted = resolve;
  });
  // Runs until every device has polled, then two offline windows more and enough polls.
  let stopAt = Number.POSITIVE_INFINITY;
  const more = () => Date.now() < stopAt || polls < 4 * DEVICES;
  const polling = Promise.all(
    tokens.map(async (token) => {
      let first = true;
      while (more()) {
        const answer = await t.call(token, "GET", "/api/v1/agent/assignments?waitMs=50");
        assert.equal(answer.status, 200);
        polls++;
        if (first && ++firstPolls === DEVICES) {
          writesAtStart = deviceWrites;
          polls = 0;
          stopAt = Date.now() + 2 * OFFLINE_AFTER_MS;
          allStarted();
        }
        first = false;
      }
    }),
  );
  await started;
  while (Date.now() < stopAt - 200) {
    const listed = (await t.call(key, "GET", "/api/v1/devices")).body.deviceList as { status: string }[];
    for (const d of listed) assert.notEqual(d.status, "OFFLINE", "a device that kept polling was swept offline");
    await new Promise((r) => setTimeout(r, 100));
  }
  await polling;
  const writesWhilePolling = deviceWrites - writesAtStart;

  const listed = (await t.call(key, "GET", "/api/v1/devices")).body.deviceList as { lastSeenTime: number | null }[];
  assert.equal(listed.length, DEVICES);
  const oldest = Math.min(...before.map((d) => d.lastSeenTime ?? 0));
  for (const d of listed) assert.ok((d.lastSeenTime ?? 0) > oldest, "a polling device's last heartbeat moved on");
  // One by one a poll is heard twice, each an UPDATE or two; batched, one write covers many devices.
  assert.ok(writesWhilePolling < polls, `${writesWhilePolling} device writes for ${polls} polls: heartbeats are not batched`);
});
