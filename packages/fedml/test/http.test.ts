import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, test } from "node:test";
import { buildUrl, request } from "../src/http.js";

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
