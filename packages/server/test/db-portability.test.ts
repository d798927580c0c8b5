// The places where SQLite and PostgreSQL differ and a query could answer differently (or fail
// on one only): ids past a 32-bit integer, seq ranges past it, NUL bytes in log text, a log
// batch bigger than one statement's parameters, NULL ordering and max() of a bigint column.
// Runs on SQLite by default and on PostgreSQL with FEDML_TEST_DATABASE_URL; same assertions.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type TestServer, deviceFacts, simpleJob, startTestServer } from "./support/server.js";

const beyondInt4 = "99999999999";

describe("one behaviour on SQLite and PostgreSQL", () => {
  let t: TestServer;
  let key: string;
  let token: string;
  let runId: string;
  before(async () => {
    t = await startTestServer();
    key = await t.createUser("portable");
    token = (await t.registerDevice(key, deviceFacts("p1"))).deviceToken;
    const launched = await t.call(key, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
    assert.equal(launched.body.resultCode, 0, launched.body.resultMsg);
    runId = launched.body.runId;
  });
  after(() => t.stop());

  test("ids too big for a 32-bit column are unknown ids (404 / empty), not server errors", async () => {
    for (const path of [`/api/v1/runs/${beyondInt4}`, `/api/v1/runs/${beyondInt4}/logs`, `/api/v1/endpoints/${beyondInt4}`]) {
      const r = await t.call(key, "GET", path);
      assert.equal(r.status, 404, `${path}: ${JSON.stringify(r.body)}`);
    }
    const dev = await t.call(key, "GET", `/api/v1/devices/${beyondInt4}`);
    assert.equal(dev.status, 404, JSON.stringify(dev.body));
    assert.deepEqual((await t.call(key, "GET", `/api/v1/runs?runId=${beyondInt4}`)).body, { runList: [] });
    const status = await t.call(token, "POST", `/api/v1/agent/runs/${beyondInt4}/status`, { status: "RUNNING" });
    assert.equal(status.status, 404, JSON.stringify(status.body));
    const logs = await t.call(token, "POST", `/api/v1/agent/runs/${beyondInt4}/logs`, { lines: [] });
    assert.equal(logs.status, 404, JSON.stringify(logs.body));
  });

  test("a 10,000-line log batch (60,000 values) is stored whole; NUL bytes do not jam it", async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => ({
      seq: i + 1,
      text: i === 4 ? "bin\u0000ary" : `line ${i + 1}`,
      stream: "stdout" as const,
      time: 1_700_000_000_000 + i,
    }));
    const r = await t.call(token, "POST", `/api/v1/agent/runs/${runId}/logs`, { lines });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.ackedSeq, 10_000);
    const again = await t.call(token, "POST", `/api/v1/agent/runs/${runId}/logs`, { lines: lines.slice(9_990) });
    assert.equal(again.body.ackedSeq, 10_000, "a resent tail is skipped, not stored twice");
    const page = await t.call(key, "GET", `/api/v1/runs/${runId}/log-lines?afterSeq=3&limit=3`);
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.deepEqual(
      page.body.lines.map((l: { text: string }) => l.text),
      ["line 4", "bin\uFFFDary", "line 6"],
    );
    const last = await t.call(key, "GET", `/api/v1/runs/${runId}/log-lines?afterSeq=9998&limit=10`);
    assert.deepEqual(
      last.body.lines.map((l: { text: string }) => l.text),
      ["line 9999", "line 10000"],
    );
  });

  test("log reads past any possible seq are refused as bad parameters (400, code 3), never a server error", async () => {
    // A seq is a 32-bit column on both databases; one past it can name no line, so the one
    // validation layer refuses it with the parameter's name instead of each database answering
    // its own way.
    const lines = await t.call(key, "GET", `/api/v1/runs/${runId}/log-lines?afterSeq=${beyondInt4}&limit=5`);
    assert.equal(lines.status, 400, JSON.stringify(lines.body));
    assert.equal(lines.body.resultCode, 3);
    assert.match(lines.body.error, /afterSeq/);
    const page = await t.call(key, "GET", `/api/v1/runs/${runId}/logs?pageNum=${beyondInt4}&pageSize=1000`);
    assert.equal(page.status, 400, JSON.stringify(page.body));
    assert.equal(page.body.resultCode, 3);
    assert.match(page.body.error, /pageNum/);
  });
});
