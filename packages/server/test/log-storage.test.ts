import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { waitFor } from "../../../test/support/wait.js";
import { openTestStore } from "./support/database.js";
import { type TestServer, deviceFacts, simpleJob, startTestServer } from "./support/server.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const line = (seq: number, text = `line ${seq}`) => ({ seq, text, stream: "stdout" as const, time: 1000 + seq });

async function placedRun(t: TestServer, key: string, name: string) {
  const device = await t.registerDevice(key, deviceFacts(name));
  const r = await t.call(key, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
  assert.equal(r.body.resultCode, 0, JSON.stringify(r.body));
  const id = r.body.runId as string;
  return {
    id,
    deviceId: String(device.deviceId),
    post: (lines: ReturnType<typeof line>[]) => t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${id}/logs`, { lines }),
    postText: (batch: { firstSeq: number; text: string; runs: [number, number, number][] }) =>
      t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${id}/logs/text`, batch),
    report: (status: string) => t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${id}/status`, { status, exitCode: 0 }),
  };
}

describe("log storage: contiguous seqs, bounded reads", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.stop());

  test("a batch claiming seq 2^31-1 is refused; the log never looks longer than it is; a follower of the ended run is done at once", async () => {
    const key = await t.createUser("claimer");
    const run = await placedRun(t, key, "claim-dev");
    assert.deepEqual((await run.post([line(1), line(2), line(3)])).body, { ackedSeq: 3 });
    const claim = await run.post([line(2_147_483_647)]);
    assert.equal(claim.status, 409);
    assert.equal(claim.body.ackedSeq, 3);
    assert.equal(claim.body.resultCode, 3);
    // A gap inside a batch: stored up to the gap only.
    assert.deepEqual((await run.post([line(4), line(5), line(9), line(2_147_483_647)])).body, { ackedSeq: 5 });
    const page = await t.call(key, "GET", `/api/v1/runs/${run.id}/logs?pageSize=100`);
    assert.equal(page.body.totalLogLines, 5);
    assert.equal(page.body.totalLogPages, 1);
    assert.equal((await run.report("FINISHED")).status, 200);
    const started = Date.now();
    const tail = await t.call(key, "GET", `/api/v1/runs/${run.id}/log-lines?afterSeq=5&waitMs=20000`);
    assert.equal(tail.body.done, true);
    assert.ok(Date.now() - started < 5000, "the follower is answered at once, not after its wait");
    const fromStart = await t.call(key, "GET", `/api/v1/runs/${run.id}/log-lines?afterSeq=0&limit=10000`);
    assert.deepEqual(
      fromStart.body.lines.map((l: { seq: number }) => l.seq),
      [1, 2, 3, 4, 5],
    );
    assert.equal(fromStart.body.done, true);
  });

  test("lines sent as text or one by one read back exact through pages, both follow answers and search, across chunks", async () => {
    const key = await t.createUser("texter");
    const run = await placedRun(t, key, "text-dev");
    const texts = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);
    const joined = (from: number, to: number) =>
      texts(from, to)
        .map((x) => `${x}\n`)
        .join("");
    assert.deepEqual(
      (
        await run.postText({
          firstSeq: 1,
          text: joined(1, 2500),
          runs: [
            [1000, 5000, 0],
            [1500, 6000, 1],
          ],
        })
      ).body,
      { ackedSeq: 2500 },
    );
    // A line holding "\n" can only come one by one; it is stored alone and read back as it is.
    assert.deepEqual((await run.post([line(2501, "multi\nline"), line(2502)])).body, { ackedSeq: 2502 });
    // A resend overlapping what is stored: only the new line is taken.
    assert.deepEqual((await run.postText({ firstSeq: 2001, text: joined(2001, 2503), runs: [[503, 7000, 0]] })).body, {
      ackedSeq: 2503,
    });
    const gap = await run.postText({ firstSeq: 2600, text: "x\n", runs: [[1, 7000, 0]] });
    assert.equal(gap.status, 409);
    assert.equal(gap.body.ackedSeq, 2503);
    const bad = await run.postText({ firstSeq: 2504, text: "a\nb\n", runs: [[1, 7000, 0]] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /holds 2 lines but its runs cover 1/);
    const expected = [...texts(1, 2500), "multi\nline", "line 2502", "line 2503"];

    const lines = await t.call(key, "GET", `/api/v1/runs/${run.id}/log-lines?afterSeq=995&limit=10`);
    assert.deepEqual(
      lines.body.lines.map((l: { seq: number; text: string; time: number }) => [l.seq, l.text, l.time]),
      expected.slice(995, 1005).map((text, i) => [996 + i, text, 996 + i <= 1000 ? 5000 : 6000]),
    );
    for (const [afterSeq, limit] of [
      [995, 10],
      [0, 10_000],
      [2499, 10],
      [1000, 1000],
    ]) {
      const answer = await t.call(key, "GET", `/api/v1/runs/${run.id}/log-lines/text?afterSeq=${afterSeq}&limit=${limit}`);
      const got = answer.body.blocks.flatMap(([count, text]: [number, string]) => (count === 1 ? [text] : text.split("\n")));
      const want = expected.slice(afterSeq, afterSeq + limit);
      assert.deepEqual(got, want, `text answer after ${afterSeq}`);
      assert.equal(answer.body.firstSeq, afterSeq + 1);
      assert.equal(answer.body.lastSeq, afterSeq + want.length);
      const covered = answer.body.runs.reduce((sum: number, r: number[]) => sum + r[0], 0);
      assert.equal(covered, want.length);
    }
    const page = await t.call(key, "GET", `/api/v1/runs/${run.id}/logs?pageNum=3&pageSize=1000`);
    assert.deepEqual(page.body.runLogs.logLines, expected.slice(2000));
    const full = await t.call(key, "GET", `/api/v1/runs/${run.id}/logs/full`);
    assert.equal(full.body, `${expected.join("\n")}\n`);
    const search = (query: string) =>
      t.call(key, "GET", `/api/v1/runs/${run.id}/log-search?deviceId=${run.deviceId}&${query}`).then((r) => r.body.seq);
    assert.equal(await search("text=LINE%201999&afterSeq=0"), 1999);
    assert.equal(await search("text=line%2019&afterSeq=1999"), null);
    assert.equal(await search("text=multi&afterSeq=1"), 2501);
    assert.equal(await search("text=line%201&beforeSeq=1000"), 199);
    assert.equal(await search("text=line%202503&beforeSeq=2503"), null);
  });

  test("needAllLogs on a large log streams: the server's heap stays far below the log's size", async () => {
    const key = await t.createUser("big-logger");
    const run = await placedRun(t, key, "big-dev");
    const text = "x".repeat(400);
    const total = 60_000;
    for (let from = 1; from <= total; from += 10_000) {
      const lines = Array.from({ length: 10_000 }, (_, i) => line(from + i, `${from + i} ${text}`));
      assert.equal((await run.post(lines)).body.ackedSeq, from + 9_999);
    }
    gc();
    const base = process.memoryUsage().heapUsed;
    // The server's side of this answer, to see when it has filled its send buffer.
    let answer: ServerResponse | undefined;
    const onRequest = (request: IncomingMessage, response: ServerResponse) => {
      if (request.url?.includes(`/runs/${run.id}/logs`)) answer = response;
    };
    t.server.app.server.on("request", onRequest);
    const res = await fetch(`${t.url}/api/v1/runs/${run.id}/logs?needAllLogs=true&pageSize=10`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let bytes = 0;
    let tailText = "";
    const take = (piece: Uint8Array) => {
      bytes += piece.length;
      tailText = (tailText + Buffer.from(piece).toString("utf8")).slice(-6000);
    };
    // Mid-answer, with the reader holding back: what the server holds now is what it keeps
    // per answer. The old one built every line and then the whole JSON before sending.
    while (bytes < 2_000_000) take((await reader.read()).value as Uint8Array);
    await waitFor("the server to fill its send buffer and wait for the reader", () => answer?.writableNeedDrain === true);
    t.server.app.server.off("request", onRequest);
    gc();
    const held = process.memoryUsage().heapUsed - base;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      take(value);
    }
    assert.ok(bytes > total * 400, `the answer holds every line (${bytes} bytes)`);
    assert.match(tailText, /"logLines":\["1 x+","2 x+",.*"10 x+"\]\}\}$/s);
    assert.ok(held < bytes / 4, `heap held ${Math.round(held / 1e6)} MB mid-way through a ${Math.round(bytes / 1e6)} MB answer`);
  });
});

describe("log quotas: per run and per user, a notice line, the job keeps running", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ runLogBytes: 20_000, userLogBytes: 30_000 });
  });
  after(() => t.stop());

  test("past the run's quota: one notice line, later lines acknowledged and dropped, the run still RUNNING", async () => {
    const key = await t.createUser("chatty");
    const run = await placedRun(t, key, "chatty-dev");
    await run.report("RUNNING");
    const hundred = (from: number) => Array.from({ length: 100 }, (_, i) => line(from + i, "y".repeat(100)));
    assert.deepEqual((await run.post(hundred(1))).body, { ackedSeq: 100 });
    // 10,000 bytes stored; the next 200 lines cross 20,000: capped, every line acknowledged.
    assert.deepEqual((await run.post([...hundred(101), ...hundred(201)])).body, { ackedSeq: 300 });
    assert.deepEqual((await run.post(hundred(301))).body, { ackedSeq: 400 });
    const page = await t.call(key, "GET", `/api/v1/runs/${run.id}/logs?pageSize=1000`);
    assert.equal(page.body.totalLogLines, 201);
    assert.match(
      page.body.logLineList.at(-1),
      /^\[fedml\] log quota reached: a run keeps at most .* per node; later lines are dropped, the job keeps running$/,
    );
    assert.equal(page.body.runStatus, "RUNNING");
  });

  test("the owner's runs together stop at the user's quota", async () => {
    const key = await t.createUser("chatty-two");
    const first = await placedRun(t, key, "two-a");
    const second = await placedRun(t, key, "two-b");
    const lines = (from: number, n: number) => Array.from({ length: n }, (_, i) => line(from + i, "z".repeat(100)));
    assert.deepEqual((await first.post(lines(1, 190))).body, { ackedSeq: 190 });
    assert.deepEqual((await second.post(lines(1, 150))).body, { ackedSeq: 150 });
    const page = await t.call(key, "GET", `/api/v1/runs/${second.id}/logs?pageSize=1000`);
    assert.equal(page.body.totalLogLines, 111);
    assert.match(page.body.logLineList.at(-1), /your runs' logs hold .*, the most this server keeps per user/);
  });
});

describe("log retention", () => {
  let t: TestServer;
  before(async () => {
    // A tenth of a second, swept every 100 ms: the runs of this test age past it at once.
    t = await startTestServer({ logRetentionDays: 0.1 / 86_400, storageSweepMs: 100 });
  });
  after(() => t.stop());

  test("the log of a run that ended past the retention becomes one notice line; a live run's log stays", async () => {
    const key = await t.createUser("old-runs");
    const ended = await placedRun(t, key, "old-a");
    const live = await placedRun(t, key, "old-b");
    const lines = Array.from({ length: 50 }, (_, i) => line(i + 1));
    await ended.post(lines);
    await live.post(lines);
    await ended.report("FINISHED");
    const page = await waitFor("the ended run's log to expire", async () => {
      const p = await t.call(key, "GET", `/api/v1/runs/${ended.id}/logs?pageSize=100`);
      return p.body.totalLogLines === 1 ? p : undefined;
    });
    assert.match(page.body.logLineList[0], /^\[fedml\] this log was removed .* days after the run ended/);
    assert.equal((await t.call(key, "GET", `/api/v1/runs/${live.id}/logs?pageSize=100`)).body.totalLogLines, 50);
    const store = await openTestStore(t.home);
    try {
      const usage = await store.db.selectFrom("user_log_usage").selectAll().execute();
      const notice = Buffer.byteLength(page.body.logLineList[0]);
      const kept = lines.reduce((n, l) => n + Buffer.byteLength(l.text), 0);
      assert.equal(usage.find((u) => u.log_bytes > 0)?.log_bytes, kept + notice);
    } finally {
      await store.close();
    }
  });
});
