import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AgentClient } from "../src/client.js";
import { LOST_LINE_TEXT, LogShipper } from "../src/shipper.js";
import { StandInServer } from "./stand-in-server.js";

const backoff = { initialMs: 5, maxMs: 40 };
const server = new StandInServer();
const client = () => new AgentClient({ serverUrl: server.url, deviceToken: server.token, backoff });
const shipperFor = (runId: string, maxBatch?: number, maxBatchChars?: number) =>
  new LogShipper({ runId, send: (id, lines) => client().sendLogs(id, lines), backoff, maxBatch, maxBatchChars });

before(() => server.start());
after(() => server.stop());
beforeEach(() => {
  server.intercept = null;
  server.batches = [];
  server.maxLogsInFlight = 0;
});

describe("LogShipper", () => {
  test("numbers lines 1..N, batches of at most 1,000, one request in flight, in order", async () => {
    const shipper = shipperFor("r-batches", 1000);
    for (let i = 1; i <= 2500; i++) shipper.push(i % 2 ? "stdout" : "stderr", `line ${i}`);
    await shipper.drained();
    shipper.close();
    const lines = server.lines.get("r-batches") ?? [];
    assert.deepEqual(
      lines.map((l) => l.seq),
      Array.from({ length: 2500 }, (_, i) => i + 1),
    );
    assert.equal(lines[1].text, "line 2");
    assert.equal(lines[1].stream, "stderr");
    assert.ok(server.batches.every((n) => n <= 1000));
    assert.equal(server.maxLogsInFlight, 1);
    assert.equal(shipper.ackedSeq, 2500);
  });

  test("a batch stays within maxBatchChars of text, and a longer line still goes alone", async () => {
    const shipper = shipperFor("r-chars", 10_000, 10_000);
    const long = "y".repeat(15_000);
    for (let i = 1; i <= 40; i++) shipper.push("stdout", i === 20 ? long : `${"x".repeat(999)}${i % 10}`);
    await shipper.drained();
    shipper.close();
    assert.equal(server.textsOf("r-chars").length, 40);
    assert.equal(server.textsOf("r-chars")[19], long);
    assert.ok(server.batches.length >= 5, `batches ${server.batches.join(",")}`);
    assert.ok(server.batches.every((n) => n <= 10));
  });

  test("a few lines go out within the flush interval without drained()", async () => {
    const shipper = shipperFor("r-timer");
    shipper.push("stdout", "a");
    shipper.push("stdout", "b");
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.deepEqual(server.textsOf("r-timer"), ["a", "b"]);
    assert.deepEqual(server.batches, [2]);
    shipper.close();
  });

  test("dropped connections and 5xx answers lose nothing", async () => {
    let failures = 0;
    server.intercept = (req) => {
      if (!req.url?.includes("/logs")) return undefined;
      failures++;
      if (failures <= 2) return "drop";
      if (failures <= 4) return { status: 503, body: { resultCode: 20, resultMsg: "ERROR", error: "busy" } };
      return undefined;
    };
    const shipper = shipperFor("r-drops");
    for (let i = 1; i <= 1500; i++) shipper.push("stdout", `l${i}`);
    await shipper.drained();
    shipper.close();
    assert.ok(failures > 4);
    assert.deepEqual(
      server.textsOf("r-drops"),
      Array.from({ length: 1500 }, (_, i) => `l${i + 1}`),
    );
  });

  test("a 409 with ackedSeq makes it resend from there", async () => {
    const shipper = shipperFor("r-409");
    for (let i = 1; i <= 10; i++) shipper.push("stdout", `x${i}`);
    await shipper.drained();
    // The server loses lines 6..10 (say, a restore from backup): it answers 409 ackedSeq=5.
    server.lines.set("r-409", (server.lines.get("r-409") ?? []).slice(0, 5));
    for (let i = 11; i <= 12; i++) shipper.push("stdout", `x${i}`);
    await shipper.drained();
    shipper.close();
    const texts = server.textsOf("r-409");
    assert.deepEqual(texts.slice(0, 5), ["x1", "x2", "x3", "x4", "x5"]);
    // Lines 6..10 were acked and dropped before: placeholders keep seqs contiguous.
    assert.deepEqual(texts.slice(5, 10), Array(5).fill(LOST_LINE_TEXT));
    assert.deepEqual(texts.slice(10), ["x11", "x12"]);
    assert.deepEqual(
      (server.lines.get("r-409") ?? []).map((l) => l.seq),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
  });

  test("a partial ack keeps the rest and sends it again", async () => {
    let first = true;
    server.intercept = (req, body) => {
      if (!first || !req.url?.includes("/logs")) return undefined;
      first = false;
      const lines = (body as { lines: { seq: number; text: string; stream: "stdout"; time: number }[] }).lines.slice(0, 3);
      server.lines.set("r-partial", lines);
      return { status: 200, body: { ackedSeq: 3 } };
    };
    const shipper = shipperFor("r-partial");
    for (let i = 1; i <= 7; i++) shipper.push("stdout", `p${i}`);
    await shipper.drained();
    shipper.close();
    assert.deepEqual(server.textsOf("r-partial"), ["p1", "p2", "p3", "p4", "p5", "p6", "p7"]);
  });

  test("lines go as one text; a line holding a newline, or a server without the text route, gets the per-line route", async () => {
    const routes: string[] = [];
    let textRoute = true;
    server.intercept = (req) => {
      routes.push(req.url?.endsWith("/logs/text") ? "text" : "lines");
      return !textRoute && req.url?.endsWith("/logs/text")
        ? { status: 404, body: { resultCode: 20, resultMsg: "ERROR", error: "no route POST /logs/text" } }
        : undefined;
    };
    const agentClient = client();
    const shipper = new LogShipper({ runId: "r-routes", send: (id, lines) => agentClient.sendLogs(id, lines), backoff });
    shipper.push("stdout", "a");
    shipper.push("stderr", "b");
    await shipper.drained();
    shipper.push("stdout", "two\nlines");
    await shipper.drained();
    textRoute = false;
    shipper.push("stdout", "c");
    await shipper.drained();
    shipper.push("stdout", "d");
    await shipper.drained();
    shipper.close();
    assert.deepEqual(server.textsOf("r-routes"), ["a", "b", "two\nlines", "c", "d"]);
    assert.deepEqual(
      (server.lines.get("r-routes") ?? []).map((l) => l.stream),
      ["stdout", "stderr", "stdout", "stdout", "stdout"],
    );
    // The 404 of a server without the route is remembered: later batches go per line at once.
    assert.deepEqual(routes, ["text", "lines", "text", "lines", "lines"]);
  });

  test("a 4xx refusal gives up on the lines instead of retrying forever", async () => {
    server.intercept = (req) =>
      req.url?.includes("/logs")
        ? { status: 404, body: { resultCode: 25, resultMsg: "JOB_NOT_EXISTS", error: "no run r-gone" } }
        : undefined;
    const messages: string[] = [];
    const shipper = new LogShipper({
      runId: "r-gone",
      send: (id, lines) => client().sendLogs(id, lines),
      backoff,
      log: (m) => messages.push(m),
    });
    shipper.push("stdout", "nobody wants this");
    await shipper.drained();
    shipper.close();
    assert.match(messages.join("\n"), /refused the logs of run r-gone: no run r-gone/);
  });
});
