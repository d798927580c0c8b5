// The agents' plain assignments polls are served ahead of fastify (api/assignments-front.ts):
// which URLs it takes, and that every answer (a poll, a refused token, a refused query) reads
// as the route's: the same bodies, the request id, the per-route latency metric.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ResultCode } from "@fedml/core";
import { ASSIGNMENTS_ROUTE, plainPollQuery } from "../src/api/assignments-front.js";
import { EXPIRY_SLOT_MS } from "../src/held-waits.js";
import { deviceFacts, startTestServer } from "./support/server.js";

describe("plainPollQuery", () => {
  test("takes the path alone or with since and waitMs, each once, as plain numbers in the schema's range", () => {
    assert.deepEqual(plainPollQuery(ASSIGNMENTS_ROUTE), { since: 0, waitMs: 0 });
    assert.deepEqual(plainPollQuery(`${ASSIGNMENTS_ROUTE}?since=12&waitMs=10000`), { since: 12, waitMs: 10_000 });
    assert.deepEqual(plainPollQuery(`${ASSIGNMENTS_ROUTE}?waitMs=0&since=2147483647`), { since: 2_147_483_647, waitMs: 0 });
    assert.deepEqual(plainPollQuery(`${ASSIGNMENTS_ROUTE}?waitMs=3600000`), { since: 0, waitMs: 3_600_000 });
  });

  test("leaves everything else to the route", () => {
    for (const url of [
      "/api/v1/agent/assignmentsX",
      "/api/v1/agent/assignments/",
      "/api/v1/agent/hello",
      "/api/v1/AGENT/assignments",
      `${ASSIGNMENTS_ROUTE}?`,
      `${ASSIGNMENTS_ROUTE}?since=1&`,
      `${ASSIGNMENTS_ROUTE}?since`,
      `${ASSIGNMENTS_ROUTE}?since=`,
      `${ASSIGNMENTS_ROUTE}?since=01`,
      `${ASSIGNMENTS_ROUTE}?since=-1`,
      `${ASSIGNMENTS_ROUTE}?since=1.5`,
      `${ASSIGNMENTS_ROUTE}?since=1e3`,
      `${ASSIGNMENTS_ROUTE}?since=%31`,
      `${ASSIGNMENTS_ROUTE}?since=2147483648`,
      `${ASSIGNMENTS_ROUTE}?waitMs=3600001`,
      `${ASSIGNMENTS_ROUTE}?since=1&since=2`,
      `${ASSIGNMENTS_ROUTE}?since=1&other=2`,
      `${ASSIGNMENTS_ROUTE}#since=1`,
    ]) {
      assert.equal(plainPollQuery(url), null, url);
    }
  });
});

test("a poll answered ahead of fastify reads as the route's answer: body, request id, errors, metric", async () => {
  const t = await startTestServer();
  try {
    const key = await t.createUser("front");
    const device = await t.registerDevice(key, deviceFacts("front"));
    const poll = (query: string, token = device.deviceToken, headers: Record<string, string> = {}) =>
      fetch(`${t.url}${ASSIGNMENTS_ROUTE}${query}`, { headers: { authorization: `Bearer ${token}`, ...headers } });

    const plain = await poll("?since=0&waitMs=0", device.deviceToken, { "x-request-id": "agent-poll-1" });
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(plain.headers.get("x-request-id"), "agent-poll-1");
    const answer = (await plain.json()) as { version: number; assignments: unknown[] };
    assert.ok(Number.isInteger(answer.version));
    assert.deepEqual(answer.assignments, []);

    // The same poll with a parameter the front path leaves to the route: the same answer.
    const routed = await poll("?since=0&waitMs=0&unused=1");
    assert.equal(routed.status, 200);
    assert.deepEqual(await routed.json(), answer);
    assert.match(routed.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);

    // A held poll ends at its wait with the same answer, saying how long it was held at most:
    // up to a sixteenth less than asked (the hold's jitter), then to the end of its expiry slot,
    // on either path.
    for (const extra of ["", "&unused=1"]) {
      const held = await poll(`?since=${answer.version}&waitMs=320${extra}`);
      assert.equal(held.status, 200);
      assert.deepEqual(await held.json(), answer);
      const hold = /^hold;dur=(\d+)$/.exec(held.headers.get("server-timing") ?? "");
      assert.ok(hold, `server-timing ${held.headers.get("server-timing")}${extra}`);
      assert.ok(Number(hold[1]) >= 300 && Number(hold[1]) <= 320 + EXPIRY_SLOT_MS, `hold ${hold[1]}${extra}`);
    }

    const refused = await poll("?waitMs=0", "not-a-device-token");
    assert.equal(refused.status, 401);
    const refusedBody = (await refused.json()) as { resultCode: number; error: string };
    assert.equal(refusedBody.resultCode, ResultCode.ERROR);
    assert.match(refusedBody.error, /device token not accepted/);
    assert.ok(refused.headers.get("x-request-id"));
    // The route refuses the same way.
    const refusedRouted = await poll("?waitMs=0&unused=1", "not-a-device-token");
    assert.equal(refusedRouted.status, 401);
    assert.deepEqual(await refusedRouted.json(), refusedBody);

    // Values the schema refuses go to the route, which answers with its validation error.
    for (const query of ["?waitMs=abc", "?waitMs=3600001", "?since=-1"]) {
      const bad = await poll(query);
      assert.equal(bad.status, 400, query);
      const body = (await bad.json()) as { resultCode: number; error: string };
      assert.equal(body.resultCode, ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, query);
      assert.match(body.error, /^invalid request: .*(waitMs|since)/, query);
    }

    // Every poll counted under the route's template, front path or route alike: four answered, two refused, three invalid.
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const count = (status: number) =>
      Number(
        metrics
          .split("\n")
          .find((line) =>
            line.startsWith(
              `fedml_http_request_duration_seconds_count{method="GET",route="${ASSIGNMENTS_ROUTE}",status_code="${status}"}`,
            ),
          )
          ?.split(" ")[1] ?? 0,
      );
    assert.equal(count(200), 4);
    assert.equal(count(401), 2);
    assert.equal(count(400), 3);
  } finally {
    await t.stop();
  }
});
