// What the dashboard asks of the API beyond the SDK: sessions by cookie (and their CSRF
// rule), keyset paging and filters of the run list, a run's detail, search in its logs.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type TestServer, deviceFacts, simpleJob, startTestServer } from "./support/server.js";

describe("API: what the dashboard uses", () => {
  let t: TestServer;
  let bob: string;
  before(async () => {
    t = await startTestServer();
    bob = await t.createUser("bob");
    await t.registerDevice(bob, deviceFacts("b1"));
  });
  after(() => t.stop());

  const launch = async (key: string, yamlText: string) => {
    const r = await t.call(key, "POST", "/api/v1/runs", { yamlText, workspaceSha256: null });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.runId, JSON.stringify(r.body));
    return r.body.runId as string;
  };

  /** A request as the browser sends it: the cookie, and the dashboard's header unless told not to. */
  const withCookie = async (cookie: string, method: string, path: string, opts: { header?: boolean; body?: unknown } = {}) => {
    const headers: Record<string, string> = { cookie };
    if (opts.header !== false) headers["x-fedml-dashboard"] = "1";
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    return { status: res.status, text: await res.text(), setCookie: res.headers.get("set-cookie") };
  };

  const signIn = async (apiKey: string) => {
    const res = await withCookie("", "POST", "/api/v1/session", { body: { apiKey } });
    assert.equal(res.status, 200, res.text);
    assert.match(res.setCookie ?? "", /^fedml_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    return (res.setCookie ?? "").split(";")[0];
  };

  test("a session cookie stands for its key: same answers, ended by sign-out and by revoking the key", async () => {
    const carol = await t.createUser("carol");
    await t.registerDevice(carol, deviceFacts("c1"));
    assert.equal((await withCookie("", "POST", "/api/v1/session", { body: { apiKey: "fedml_wrong" } })).status, 401);
    // Another site's form cannot add the header: sign-in without it is refused.
    assert.equal((await withCookie("", "POST", "/api/v1/session", { body: { apiKey: carol }, header: false })).status, 403);
    const cookie = await signIn(carol);
    const me = await withCookie(cookie, "GET", "/api/v1/session");
    assert.equal(JSON.parse(me.text).name, "carol");
    const runId = await launch(carol, simpleJob());
    assert.equal((await withCookie(cookie, "GET", `/api/v1/runs/${runId}`)).status, 200);
    // State changes by cookie need the header; with it, they are the key's.
    assert.equal((await withCookie(cookie, "POST", `/api/v1/runs/${runId}/stop`, { header: false })).status, 403);
    assert.equal((await withCookie(cookie, "POST", `/api/v1/runs/${runId}/stop`)).status, 200);
    // An Authorization header wins over the cookie: a bad bearer is refused even with a good cookie.
    const both = await fetch(`${t.url}/api/v1/runs`, { headers: { cookie, authorization: "Bearer fedml_wrong" } });
    assert.equal(both.status, 401);

    const second = await signIn(carol);
    const out = await withCookie(cookie, "DELETE", "/api/v1/session");
    assert.equal(out.status, 204);
    assert.match(out.setCookie ?? "", /Max-Age=0/);
    assert.equal((await withCookie(cookie, "GET", "/api/v1/runs")).status, 401);
    assert.equal((await withCookie(second, "GET", "/api/v1/runs")).status, 200);
    assert.equal((await t.call(t.adminKey, "POST", "/api/v1/users/carol/revoke")).status, 200);
    assert.equal((await withCookie(second, "GET", "/api/v1/runs")).status, 401);
  });

  test("the run list pages by cursor without gaps or repeats, and filters by name, project and status", async () => {
    const dave = await t.createUser("dave");
    await t.registerDevice(dave, deviceFacts("d1"));
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const project = i % 2 === 0 ? "even" : "odd";
      ids.push(await launch(dave, `job: echo ${i}\njob_name: train_${i}%x\nfedml_env: {project_name: ${project}}\n`));
    }
    const newestFirst = [...ids].reverse();
    const seen: string[] = [];
    let before: string | undefined;
    for (let pages = 0; pages < 5; pages++) {
      const r = await t.call(dave, "GET", `/api/v1/runs?limit=3${before ? `&before=${before}` : ""}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      seen.push(...r.body.runList.map((run: { runId: string }) => run.runId));
      before = r.body.nextCursor ?? undefined;
      if (!before) break;
    }
    assert.deepEqual(seen, newestFirst);
    const names = async (query: string) =>
      (await t.call(dave, "GET", `/api/v1/runs?${query}`)).body.runList.map((r: { runName: string }) => r.runName);
    assert.deepEqual(await names("nameContains=TRAIN_3"), ["train_3%x"]);
    // % and _ in the text are literal, not wildcards.
    assert.deepEqual(await names("nameContains=_3%25"), ["train_3%x"]);
    assert.deepEqual(await names("nameContains=n_%25"), []);
    assert.deepEqual(await names("project=odd"), ["train_5%x", "train_3%x", "train_1%x"]);
    assert.deepEqual(await names("project=odd&nameContains=5"), ["train_5%x"]);
    assert.equal((await names("project=nope")).length, 0);
    assert.equal((await t.call(dave, "GET", "/api/v1/runs?before=12")).status, 400);
    // Another user's project of the same name is not dave's.
    await launch(bob, "job: echo b\nfedml_env: {project_name: odd}\n");
    assert.equal((await names("project=odd")).length, 3);
  });

  test("a run's detail (YAML, placement time) and search in its logs; another user gets 404", async () => {
    const erin = await t.createUser("erin");
    const device = await t.registerDevice(erin, deviceFacts("e1"));
    const yamlText = "job: echo searching\n# a comment kept as sent\n";
    const runId = await launch(erin, yamlText);
    const detail = await t.call(erin, "GET", `/api/v1/runs/${runId}/detail`);
    assert.equal(detail.body.yamlText, yamlText);
    assert.equal(typeof detail.body.placedTime, "number");
    const lines = Array.from({ length: 300 }, (_, i) => ({
      seq: i + 1,
      text: i % 100 === 41 ? `epoch ${i} Loss=0.5` : `step ${i}`,
      stream: "stdout",
      time: 1000 + i,
    }));
    assert.equal((await t.call(device.deviceToken, "POST", `/api/v1/agent/runs/${runId}/logs`, { lines })).status, 200);
    const search = async (query: string) =>
      (await t.call(erin, "GET", `/api/v1/runs/${runId}/log-search?deviceId=${device.deviceId}&${query}`)).body.seq;
    assert.equal(await search("text=loss%3D"), 42);
    assert.equal(await search("text=loss%3D&afterSeq=42"), 142);
    assert.equal(await search("text=loss%3D&beforeSeq=242"), 142);
    assert.equal(await search("text=loss%3D&afterSeq=242"), null);
    assert.equal(await search("text=no%20such%20line"), null);
    assert.equal((await t.call(bob, "GET", `/api/v1/runs/${runId}/detail`)).status, 404);
    assert.equal((await t.call(bob, "GET", `/api/v1/runs/${runId}/log-search?deviceId=${device.deviceId}&text=x`)).status, 404);
  });
});
