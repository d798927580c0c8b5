import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type IncomingMessage, type ServerResponse, createServer as createHttpServer } from "node:http";
import { type Socket, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type RunningServer, buildServer } from "@fedml/server";
import { buildUrl, request, serverListFor } from "../src/http.js";

/** A port nothing listens on: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe("http", () => {
  test("query values are encoded and null/undefined ones left out", () => {
    assert.equal(
      buildUrl("http://h:1/", "/api/v1/runs", { runName: "a b", runId: undefined, platform: null, pageNum: 2, all: true }),
      "http://h:1/api/v1/runs?runName=a+b&pageNum=2&all=true",
    );
  });

  test("an unreachable server is a one-line FedmlError: 20 by default, 10 for launches", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    await assert.rejects(
      request("GET", "/api/v1/me", { serverUrl: url, apiKey: "k" }),
      (err: Error & { resultCode?: number }) => {
        assert.equal(err.resultCode, 20);
        assert.equal(err.message, `cannot reach the FedML server at ${url}: ECONNREFUSED`);
        return true;
      },
    );
    await assert.rejects(request("POST", "/api/v1/runs", { serverUrl: url, apiKey: "k" }, { unreachableCode: 10, body: {} }), {
      resultCode: 10,
    });
  });
});

/**
 * A stand-in for what sits between a client and a replica (a proxy whose upstream is down, a
 * host that accepts connections and never answers): answers with `handler`, counting requests.
 */
async function frontServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<Socket>();
  let requests = 0;
  const srv = createHttpServer((req, res) => {
    requests++;
    handler(req, res);
  });
  srv.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

describe("several server URLs, timeouts and retries", () => {
  const home = mkdtempSync(join(tmpdir(), "fedml-http-"));
  let server: RunningServer;
  let adminKey: string;
  before(async () => {
    server = await buildServer({ home, port: 0, logLevel: "silent" });
    adminKey = readFileSync(join(home, "server", "admin-key"), "utf8").trim();
  });
  after(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });

  test("a call moves past a dead replica and one answering 503 to one that works, and stays there", async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const unavailable = await frontServer((_req, res) => res.writeHead(503).end("no upstream"));
    try {
      const serverUrl = `${dead},${unavailable.url},${server.url}`;
      const me = await request<{ name: string }>("GET", "/api/v1/me", { serverUrl, apiKey: adminKey });
      assert.equal(me.name, "admin");
      assert.equal(serverListFor(serverUrl).current, server.url);
      // The next call goes straight to the replica that answered.
      await request("GET", "/api/v1/me", { serverUrl, apiKey: adminKey });
      assert.equal(unavailable.requests(), 1);
    } finally {
      await unavailable.close();
    }
  });

  test("a server that never answers times out with one line; a read moves on to the next URL", async () => {
    const silent = await frontServer(() => undefined);
    try {
      const started = Date.now();
      await assert.rejects(request("GET", "/api/v1/me", { serverUrl: silent.url, apiKey: adminKey }, { timeoutMs: 300 }), {
        message: `cannot reach the FedML server at ${silent.url}: no answer in 0.3 s`,
      });
      assert.ok(Date.now() - started < 5_000);
      const serverUrl = `${silent.url},${server.url}`;
      const me = await request<{ name: string }>("GET", "/api/v1/me", { serverUrl, apiKey: adminKey }, { timeoutMs: 300 });
      assert.equal(me.name, "admin");
    } finally {
      await silent.close();
    }
  });

  test("a POST that may have reached a silent server is not sent again elsewhere", async () => {
    const silent = await frontServer(() => undefined);
    try {
      const serverUrl = `${silent.url},${server.url}`;
      await assert.rejects(
        request("POST", "/api/v1/users", { serverUrl, apiKey: adminKey }, { body: { name: "once" }, timeoutMs: 300 }),
        /no answer in 0.3 s/,
      );
      assert.equal(silent.requests(), 1);
      const users = await request<{ userList: { name: string }[] }>("GET", "/api/v1/users", {
        serverUrl: server.url,
        apiKey: adminKey,
      });
      assert.ok(!users.userList.some((u) => u.name === "once"));
    } finally {
      await silent.close();
    }
  });

  test("a read answered 502 is retried with backoff on the same server until it answers", async () => {
    let calls = 0;
    const flaky = await frontServer((req, res) => {
      calls++;
      if (calls < 3) return void res.writeHead(502).end("bad gateway");
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: req.url }));
    });
    try {
      const answer = await request<{ ok: string }>("GET", "/x", { serverUrl: flaky.url, apiKey: null });
      assert.equal(answer.ok, "/x");
      assert.equal(calls, 3);
    } finally {
      await flaky.close();
    }
  });
});
