// The dashboard's devices & offers, clusters, endpoints, cost & credit and admin pages in a
// real Chromium against a real server and agent (alice's, two simulated A100s), plus one
// device of bob's driven through the agent API (a paid H100 elsewhere): one fleet and one
// browser for every test here. Each test changes something behind the open page and waits
// for the page to show it, without a reload.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { DeviceFacts, RegisterResponse } from "@fedml/core";
import { api } from "fedml";
import type { Browser, Page } from "playwright-core";
import { browserUnavailable, fetchInPage, launchChromium, signIn } from "./support/browser.js";
import { writeJob } from "./support/jobs.js";
import { type AgentProcess, type ServerProcess, startServerWithAgent } from "./support/processes.js";
import { type Caller, waitForRunStatus } from "./support/runs.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const skip = browserUnavailable();
const tmp = makeTempDir("dashboard-pages");
let server: ServerProcess;
let agent: AgentProcess;
let alice: Caller;
let bob: Caller;
let admin: Caller;
let browser: Browser;
let bobDevice: RegisterResponse;

/** A page of a fresh browser context signed in with `key`, at `path`. */
async function pageAs(key: string, path: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signIn(page, server.url, key, path);
  return page;
}

async function agentCall(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${bobDevice.deviceToken}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.text()}`);
}

/** Bob's device has no agent: the test heartbeats it so that it stays online. */
const heartbeat = () => agentCall("GET", "/api/v1/agent/assignments?waitMs=0");

const sleepJob = (name: string, computing: string) => writeJob(tmp.dir, name, `job: sleep 600\ncomputing: ${computing}\n`);

describe("dashboard pages", { skip }, () => {
  before(async () => {
    ({
      server,
      agent,
      callers: [alice, bob],
    } = await startServerWithAgent(tmp.dir, {
      users: ["alice", "bob"],
      agentArgs: ["--name", "box-a", "--region", "eu-west", "--simulate-gpus", "A100-80G:2:80", "--max-jobs", "4"],
    }));
    admin = { serverUrl: server.url, apiKey: server.adminKey };
    const facts: DeviceFacts = {
      name: "bob-h100",
      hostname: "bob-h100",
      osType: "Linux",
      osVersion: "6.1",
      cpuCount: 8,
      memoryBytes: 2 ** 34,
      gpus: [{ index: 0, name: "H100-80GB", memoryMiB: 81920 }],
      agentVersion: "0.1.0",
      address: "127.0.0.1",
      provider: "lambda",
      region: "us-east",
      pricePerGpuHour: 2.5,
      shared: true,
      simulated: true,
      maxJobs: 1,
    };
    const res = await fetch(`${server.url}/api/v1/agent/register`, {
      method: "POST",
      headers: { authorization: `Bearer ${bob.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ facts }),
    });
    bobDevice = (await res.json()) as RegisterResponse;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await agent?.stop();
    await server?.stop();
    tmp.cleanup();
  });

  test("devices & offers: own devices live, offers filtered by region, the dry-run box", async () => {
    const page = await pageAs(alice.apiKey, "/devices");
    const row = page.locator("[data-testid=device-table] tr", { hasText: "box-a" });
    await row.waitFor();
    assert.match(await row.innerText(), /2 × A100-80G[\s\S]*eu-west/);
    // A run started behind the page shows on its device.
    const launched = await api.launchJob(sleepJob("busy", "{minimum_num_gpus: 1}"), alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    await row.locator(`a[href='/runs/${launched.runId}']`).waitFor();
    assert.equal(await api.runStop(launched.runId as string, alice), true);
    await waitForRunStatus(launched.runId as string, ["KILLED"], alice);
    await heartbeat();

    const offers = page.locator("[data-testid=offers-table] tbody tr");
    await page.locator("[data-testid=offers-table] tr", { hasText: "bob-h100" }).waitFor();
    assert.deepEqual(await offers.locator(".device-name").allInnerTexts(), ["box-a", "bob-h100"]);
    await page.selectOption("select[name=region]", "us-east");
    await offers.filter({ hasText: "box-a" }).waitFor({ state: "detached" });
    assert.equal(await offers.count(), 1);
    assert.match(await offers.first().innerText(), /bob-h100[\s\S]*lambda[\s\S]*\$2\.50/);

    await page.fill("textarea[name=yaml]", "job: echo hi\ncomputing:\n  minimum_num_gpus: 2\n  resource_type: A100-80G\n");
    await page.click("form[aria-label='Dry run'] button[type=submit]");
    const verdict = page.locator("[data-testid=dry-run-answer] .verdict");
    await verdict.waitFor();
    assert.match(await verdict.innerText(), /Would run now on box-a \(2 GPUs\) at \$0\.00\/hour/);
    await page.fill("textarea[name=yaml]", "job: echo hi\ncomputing:\n  minimum_num_gpu: 1\n");
    await page.click("form[aria-label='Dry run'] button[type=submit]");
    assert.match(await page.locator("form[aria-label='Dry run'] [role=alert]").innerText(), /did you mean minimum_num_gpus/);
    await page.context().close();
  });

  test("clusters: running and queued runs, stop, start and kill from the page", async () => {
    const page = await pageAs(alice.apiKey, "/clusters");
    const first = await api.launchJobOnCluster(sleepJob("c-first", "{minimum_num_gpus: 2}"), "c1", alice);
    const second = await api.launchJobOnCluster(sleepJob("c-second", "{minimum_num_gpus: 2}"), "c1", alice);
    assert.equal(first.resultCode, 0, first.resultMsg);
    assert.equal(second.resultCode, 5, second.resultMsg);
    const row = page.locator("tr[data-cluster=c1]");
    await row.locator(`a[href='/runs/${second.runId}']`).waitFor();
    assert.match(await row.innerText(), /RUNNING[\s\S]*box-a[\s\S]*after 15 min idle/);
    await row.locator("button", { hasText: "Stop" }).click();
    await page.click("[role=dialog] >> text=Stop the cluster");
    await row.locator(".badge", { hasText: "STOPPED" }).waitFor();
    await waitForRunStatus(first.runId as string, ["KILLED"], alice);
    await row.locator("button", { hasText: "Start" }).click();
    await row.locator(".badge", { hasText: "IDLE" }).waitFor();
    await row.locator("button", { hasText: "Kill" }).click();
    await page.click("[role=dialog] >> text=Kill the cluster");
    await page.locator("text=No clusters").waitFor();
    assert.equal(await api.clusterExists("c1", alice), false);
    await page.context().close();
  });

  test("endpoints: READY shows up live; a JSON request goes through the proxy without the session cookie", async () => {
    const echo = [
      "import json, os",
      "from http.server import BaseHTTPRequestHandler, HTTPServer",
      "class H(BaseHTTPRequestHandler):",
      "    def reply(self, body):",
      "        data = json.dumps(body).encode()",
      "        self.send_response(200); self.send_header('content-type', 'application/json')",
      "        self.send_header('content-length', str(len(data))); self.end_headers(); self.wfile.write(data)",
      "    def do_GET(self): self.reply({'ok': True})",
      "    def do_POST(self):",
      "        got = json.loads(self.rfile.read(int(self.headers['content-length'])))",
      "        self.reply({'sum': sum(got['inputs']), 'cookie': self.headers.get('cookie'), 'path': self.path})",
      "    def log_message(self, *a): pass",
      "HTTPServer(('127.0.0.1', int(os.environ['FEDML_SERVING_PORT'])), H).serve_forever()",
      "",
    ].join("\n");
    const yaml = writeJob(
      tmp.dir,
      "echo-serve",
      "workspace: ws\njob_type: serve\nserving_args:\n  endpoint_name: echo\njob: python3 echo.py\n",
      { "echo.py": echo },
    );
    const page = await pageAs(alice.apiKey, "/endpoints");
    const launched = await api.launchJob(yaml, alice);
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    const row = page.locator(`tr[data-endpoint-id='${launched.innerId}']`);
    await row.locator(".badge", { hasText: "READY" }).waitFor({ timeout: 30_000 });
    assert.match(await row.innerText(), new RegExp(`/inference/${launched.innerId}/`));
    await page.fill("input[name=path]", "predict?x=1");
    await page.fill("textarea[name=body]", '{"inputs": [1, 2, 39]}');
    await page.click("form[aria-label='Send a request'] button[type=submit]");
    const answer = page.locator("[data-testid=inference-answer]");
    await answer.waitFor();
    assert.match(await answer.locator(".verdict").innerText(), /HTTP 200/);
    assert.deepEqual(JSON.parse(await answer.locator("pre").innerText()), { sum: 42, cookie: null, path: "/predict?x=1" });
    // A cookie-signed inference call needs the dashboard's header even for a GET: a link to
    // an endpoint cannot make a signed-in browser render what a job answers on our origin.
    assert.equal((await fetchInPage(page, `/inference/${launched.innerId}/`)).status, 403);
    await api.endpointDelete(launched.innerId as string, alice);
    await page.context().close();
  });

  test("cost & credit: balance, spending today on the chart, the ledger; the provider's earnings", async () => {
    await api.userCredit("alice", 50, admin);
    await heartbeat();
    const page = await pageAs(alice.apiKey, "/cost");
    await page.locator("[data-testid=balance]", { hasText: "$50.00" }).waitFor();
    const launched = await api.launchJob(
      sleepJob("paid", "{minimum_num_gpus: 1, resource_type: H100, maximum_cost_per_hour: $5}"),
      alice,
    );
    assert.equal(launched.resultCode, 0, launched.resultMsg);
    await agentCall("POST", `/api/v1/agent/runs/${launched.runId}/status`, { status: "RUNNING" });
    // The run must have cost something before it ends, or there is no charge to draw.
    await waitFor("the running run to cost something", async () => {
      const run = (await api.runStatus(null, launched.runId as string, alice)).runList.runList[0];
      return run !== undefined && run.cost > 0;
    });
    await agentCall("POST", `/api/v1/agent/runs/${launched.runId}/status`, { status: "FINISHED", exitCode: 0 });
    // Today's bar (the last) grows once the charge lands; the ledger gains the charge.
    const now = new Date(); // the browser runs on this machine, in its time zone
    const today = [now.getFullYear(), now.getMonth() + 1, now.getDate()].map((n) => String(n).padStart(2, "0")).join("-");
    const bars = page.locator("[data-testid=spend-chart] rect.bar.spent");
    await bars.and(page.locator(`[data-day='${today}']:not([data-spent='0'])`)).waitFor();
    assert.equal(await bars.count(), 30);
    assert.equal(await bars.last().getAttribute("data-day"), today);
    await page.locator("[data-testid=ledger-table] tr", { hasText: "charge" }).waitFor();
    // Each panel polls on its own: the per-provider table may land a poll after the ledger.
    await page.locator("[data-testid=cost-per-provider] tr", { hasText: "lambda" }).waitFor();
    await page.context().close();

    const provider = await pageAs(bob.apiKey, "/cost");
    await provider.locator("[data-testid=earnings-table] tr", { hasText: "bob-h100" }).waitFor();
    await provider.context().close();
  });

  test("admin: users with balances, create, rotate and revoke keys, grant credit; non-admins get the API's 403", async () => {
    const page = await pageAs(admin.apiKey, "/admin");
    await page.locator("[data-testid=all-runs-table] td", { hasText: "alice" }).first().waitFor();
    await page.fill("form[aria-label='Create user'] input[name=name]", "carol");
    await page.click("form[aria-label='Create user'] button[type=submit]");
    const firstKey = await page.locator("[data-testid=new-key-value]").innerText();
    const me = (key: string) => fetch(`${server.url}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal((await me(firstKey)).status, 200);
    const carol = page.locator("tr[data-user=carol]");
    await carol.waitFor();
    await carol.locator("button", { hasText: "Rotate key" }).click();
    await page.click("[role=dialog] >> text=Rotate the key");
    await page.locator("[data-testid=action-message]", { hasText: "carol: old keys no longer work" }).waitFor();
    const secondKey = await page.locator("div:has(> [data-testid=users-table]) [data-testid=new-key-value]").innerText();
    assert.equal((await me(firstKey)).status, 401);
    assert.equal((await me(secondKey)).status, 200);
    await carol.locator("button", { hasText: "Revoke keys" }).click();
    await page.click("[role=dialog] >> text=Revoke the keys");
    await page.locator("[data-testid=action-message]", { hasText: "carol: 1 key(s) revoked" }).waitFor();
    assert.equal((await me(secondKey)).status, 401);
    await carol.locator("input[name=amount]").fill("5");
    await carol.locator("form button[type=submit]").click();
    await carol.locator("td.num", { hasText: "$5.00" }).waitFor();
    assert.match(await carol.innerText(), /carol\s+user\s+0\s+\$5\.00/);
    await page.context().close();

    const refused = await pageAs(alice.apiKey, "/admin");
    assert.match(await refused.locator("[data-testid=forbidden]").innerText(), /403[\s\S]*user alice is not an admin/);
    assert.equal(await refused.locator("nav >> text=Admin").count(), 0);
    await refused.context().close();
  });
});
