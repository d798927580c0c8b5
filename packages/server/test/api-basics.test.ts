import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { KEY_TTL_MS } from "../src/auth/key-cache.js";
import { buildServer } from "../src/app.js";
import { databaseUrlFor, onPostgres } from "./support/database.js";
import { type TestServer, deviceFacts, simpleJob, startTestServer } from "./support/server.js";
import { tempDir } from "./support/tmp.js";

describe("API: auth, users, workspaces, OpenAPI", () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.stop());

  test("health needs no key; everything else answers 401 with code 20 and a one-line hint", async () => {
    const health = await t.call(null, "GET", "/api/v1/health");
    assert.equal(health.status, 200);
    assert.equal(health.body.ok, true);
    for (const key of [null, "fedml_wrong"]) {
      const me = await t.call(key, "GET", "/api/v1/me");
      assert.equal(me.status, 401);
      assert.deepEqual(me.body, {
        resultCode: 20,
        resultMsg: "ERROR",
        error: `API key not accepted by ${t.url}: check it or run fedml login`,
      });
    }
  });

  test("the admin makes users; names are checked and unique; others may not", async () => {
    const me = await t.call(t.adminKey, "GET", "/api/v1/me");
    assert.equal(me.body.name, "admin");
    assert.equal(me.body.isAdmin, true);
    const created = await t.call(t.adminKey, "POST", "/api/v1/users", { name: "alice" });
    assert.equal(created.status, 200);
    assert.match(created.body.apiKey, /^fedml_[A-Za-z0-9_-]{43}$/);
    const dup = await t.call(t.adminKey, "POST", "/api/v1/users", { name: "alice" });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.resultCode, 3);
    const bad = await t.call(t.adminKey, "POST", "/api/v1/users", { name: "no spaces" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.resultCode, 3);
    const alice = created.body.apiKey as string;
    assert.equal((await t.call(alice, "GET", "/api/v1/me")).body.name, "alice");
    assert.equal((await t.call(alice, "POST", "/api/v1/users", { name: "eve" })).status, 403);
    assert.equal((await t.call(alice, "GET", "/api/v1/users")).status, 403);
    const list = await t.call(t.adminKey, "GET", "/api/v1/users");
    assert.deepEqual(
      list.body.userList.map((u: { name: string }) => u.name),
      ["admin", "alice"],
    );
  });

  test("a revoked, rotated or disabled key is refused at once, though it was accepted (and remembered) just before", async () => {
    const me = async (key: string) => (await t.call(key, "GET", "/api/v1/me")).status;
    const erin = await t.createUser("erin");
    assert.deepEqual([await me(erin), await me(erin)], [200, 200]);
    assert.equal((await t.call(t.adminKey, "POST", "/api/v1/users/erin/revoke")).body.revoked, 1);
    assert.equal(await me(erin), 401);

    const frank = await t.createUser("frank");
    assert.equal(await me(frank), 200);
    const rotated = (await t.call(t.adminKey, "POST", "/api/v1/users/frank/rotate", {})).body.apiKey as string;
    assert.deepEqual([await me(frank), await me(rotated)], [401, 200]);
    assert.equal((await t.call(t.adminKey, "POST", "/api/v1/users/frank/disable", {})).status, 200);
    assert.equal(await me(rotated), 401);
    assert.equal((await t.call(t.adminKey, "POST", "/api/v1/users/frank/disable", { disabled: false })).status, 200);
    assert.equal(await me(rotated), 200);
  });

  /**
   * Runs `check` against another server on the same database until it answers 401 or
   * `withinMs` passes (a notification reaches the other replica through LISTEN/NOTIFY; polled,
   * so a slow machine only waits longer). Accepted there first, then `change` made here.
   */
  async function refusedOnAnotherReplica(
    status: (url: string) => Promise<number>,
    change: () => Promise<void>,
    withinMs: number,
  ): Promise<void> {
    const tmp = tempDir("other-replica");
    const other = await buildServer({
      home: tmp.dir,
      port: 0,
      logLevel: "silent",
      tickMs: 100,
      databaseUrl: await databaseUrlFor(t.home),
    });
    try {
      assert.equal(await status(other.url), 200);
      await change();
      const started = performance.now();
      let answer = await status(other.url);
      while (answer === 200 && performance.now() - started < withinMs) answer = await status(other.url);
      assert.equal(answer, 401);
    } finally {
      await other.close();
      tmp.cleanup();
    }
  }

  test("a key revoked through one replica is refused by another that remembered it", { skip: !onPostgres }, async () => {
    const gina = await t.createUser("gina");
    // The key's time-to-live bounds it should the notification be lost.
    await refusedOnAnotherReplica(
      async (url) => (await fetch(`${url}/api/v1/me`, { headers: { authorization: `Bearer ${gina}` } })).status,
      async () => assert.equal((await t.call(t.adminKey, "POST", "/api/v1/users/gina/revoke")).body.revoked, 1),
      KEY_TTL_MS + 10_000,
    );
  });

  test("a device unbound, removed or bound again is refused at once, though its token was accepted (and remembered) just before", async () => {
    const hank = await t.createUser("hank");
    const poll = async (token: string) => (await t.call(token, "GET", "/api/v1/agent/assignments")).status;
    const first = await t.registerDevice(hank, deviceFacts("hank-1"));
    assert.deepEqual([await poll(first.deviceToken), await poll(first.deviceToken)], [200, 200]);
    assert.equal((await t.call(first.deviceToken, "POST", "/api/v1/agent/unregister")).status, 200);
    assert.equal(await poll(first.deviceToken), 401);

    const second = await t.registerDevice(hank, deviceFacts("hank-2"));
    assert.equal(await poll(second.deviceToken), 200);
    assert.equal((await t.call(hank, "DELETE", `/api/v1/devices/${second.deviceId}`)).status, 200);
    assert.equal(await poll(second.deviceToken), 401);

    const third = await t.registerDevice(hank, deviceFacts("hank-3"));
    assert.equal(await poll(third.deviceToken), 200);
    const again = await t.call(hank, "POST", "/api/v1/agent/register", {
      facts: deviceFacts("hank-3"),
      previousDeviceId: third.deviceId,
    });
    assert.equal(again.body.deviceId, third.deviceId);
    assert.deepEqual([await poll(third.deviceToken), await poll(again.body.deviceToken)], [401, 200]);
  });

  test(
    "a device unbound through one replica is refused by another that remembered its token",
    { skip: !onPostgres },
    async () => {
      const ivy = await t.createUser("ivy");
      const device = await t.registerDevice(ivy, deviceFacts("ivy-1"));
      // Well before the token's time-to-live.
      await refusedOnAnotherReplica(
        async (url) =>
          (await fetch(`${url}/api/v1/agent/assignments`, { headers: { authorization: `Bearer ${device.deviceToken}` } })).status,
        async () => assert.equal((await t.call(device.deviceToken, "POST", "/api/v1/agent/unregister")).status, 200),
        10_000,
      );
    },
  );

  test("workspaces: hash checked while streaming, HEAD finds them, a launch needs an uploaded one", async () => {
    const key = await t.createUser("wsuser");
    const blob = Buffer.from("not really a tarball but bytes all the same");
    const sha = createHash("sha256").update(blob).digest("hex");
    const head = (s: string) =>
      fetch(`${t.url}/api/v1/workspaces/${s}`, { method: "HEAD", headers: { authorization: `Bearer ${key}` } });
    assert.equal((await head(sha)).status, 404);
    const put = (s: string) =>
      fetch(`${t.url}/api/v1/workspaces/${s}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/gzip" },
        body: blob,
      });
    const wrong = await put("0".repeat(64));
    assert.equal(wrong.status, 400);
    assert.equal(((await wrong.json()) as { resultCode: number }).resultCode, 3);
    const ok = await put(sha);
    assert.deepEqual(await ok.json(), { sha256: sha, size: blob.length, created: true });
    assert.deepEqual(await (await put(sha)).json(), { sha256: sha, size: blob.length, created: false });
    assert.equal((await head(sha)).status, 200);

    await t.registerDevice(key, deviceFacts("ws-dev"));
    const yamlText = "workspace: ./src\njob: echo hi\n";
    const missing = await t.call(key, "POST", "/api/v1/runs", { yamlText, workspaceSha256: "f".repeat(64) });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.resultCode, 11);
    assert.equal(missing.body.error, `workspace ${"f".repeat(64)} was not uploaded`);
    const launched = await t.call(key, "POST", "/api/v1/runs", { yamlText, workspaceSha256: sha, workspaceName: "src" });
    assert.equal(launched.body.resultCode, 0);
    const run = await t.call(key, "GET", `/api/v1/runs/${launched.body.runId}`);
    assert.equal(run.body.runName, "src_FedMLLaunchApp");
    assert.equal(run.body.projectName, "default");
  });

  test("a job YAML the parser rejects answers 400 with the parser's code", async () => {
    const key = await t.createUser("yamluser");
    const r = await t.call(key, "POST", "/api/v1/runs", { yamlText: "job: [unclosed", workspaceSha256: null });
    assert.equal(r.status, 400);
    assert.ok([13, 17].includes(r.body.resultCode), JSON.stringify(r.body));
  });

  test("no device: code 8, nothing stored; every fitting device too dear: code 4", async () => {
    const key = await t.createUser("poor");
    const none = await t.call(key, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
    assert.equal(none.status, 200);
    assert.equal(none.body.resultCode, 8);
    assert.equal(none.body.runId, null);
    // Another user's shared device: one's own devices cost their owner nothing.
    await t.registerDevice(
      await t.createUser("landlord"),
      deviceFacts("dear", { gpus: [{ index: 0, name: "NVIDIA A100", memoryMiB: 1 }], pricePerGpuHour: 2, shared: true }),
    );
    const blocked = await t.call(key, "POST", "/api/v1/runs", {
      yamlText: simpleJob("computing:\n  minimum_num_gpus: 1\n  maximum_cost_per_hour: $1\n"),
      workspaceSha256: null,
    });
    assert.equal(blocked.body.resultCode, 4, JSON.stringify(blocked.body));
    assert.equal(blocked.body.runId, null);
    const pinned = await t.call(key, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null, resourceId: "999" });
    assert.equal(pinned.body.resultCode, 8);
    assert.match(pinned.body.resultMsg, /device 999/);
    assert.deepEqual((await t.call(key, "GET", "/api/v1/runs")).body, { runList: [] });
  });

  test("the OpenAPI document is served and lists the routes", async () => {
    const doc = await t.call(null, "GET", "/api/v1/openapi.json");
    assert.equal(doc.status, 200);
    assert.match(doc.body.openapi, /^3\./);
    for (const path of [
      "/api/v1/health",
      "/api/v1/runs",
      "/api/v1/runs/{id}",
      "/api/v1/runs/{id}/logs",
      "/api/v1/runs/{id}/log-lines",
      "/api/v1/agent/assignments",
      "/api/v1/agent/runs/{id}/logs",
      "/api/v1/workspaces/{sha256}",
      "/api/v1/devices",
    ]) {
      assert.ok(doc.body.paths[path], `${path} missing from OpenAPI`);
    }
  });
});
