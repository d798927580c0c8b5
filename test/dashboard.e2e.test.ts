// The web dashboard in a real Chromium (Debian's package, through playwright-core) against a
// real server and agent: one server, one agent and one browser shared by every test here.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { api } from "fedml";
import type { Browser, BrowserContext } from "playwright-core";
import { browserUnavailable, fetchInPage, launchChromium, signIn } from "./support/browser.js";
import { writeJob } from "./support/jobs.js";
import { repoRoot } from "./support/paths.js";
import { type AgentProcess, type ServerProcess, startServerWithAgent } from "./support/processes.js";
import { type Caller, waitForRunEnd, waitForRunStatus } from "./support/runs.js";
import { makeTempDir } from "./support/tmp.js";

const skip = browserUnavailable();
const tmp = makeTempDir("dashboard");
let server: ServerProcess;
let agent: AgentProcess;
let alice: Caller;
let bob: Caller;
let browser: Browser;
const contexts: BrowserContext[] = [];

/** Launches a one-line job as `caller` through the SDK; answers the run id. */
async function launch(caller: Caller, name: string, job: string): Promise<string> {
  const yaml = writeJob(tmp.dir, name, `workspace: ws\njob: |\n  ${job}\ncomputing: {minimum_num_gpus: 0}\n`, {
    "keep.txt": "x",
  });
  const launched = await api.launchJob(yaml, caller);
  assert.equal(launched.resultCode, 0, launched.resultMsg);
  assert.ok(launched.runId);
  return launched.runId;
}

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  contexts.push(context);
  return context;
}

describe("dashboard", { skip }, () => {
  before(async () => {
    ({
      server,
      agent,
      callers: [alice, bob],
    } = await startServerWithAgent(tmp.dir, {
      users: ["alice", "bob"],
      // One (simulated) GPU: a second GPU job waits in the queue while the first holds it.
      agentArgs: ["--name", "box-a", "--simulate-gpus", "A100-80G:1"],
    }));
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await agent?.stop();
    await server?.stop();
    tmp.cleanup();
  });

  test("a bad key is refused and no session cookie is set", async () => {
    const page = await (await newContext()).newPage();
    await page.goto(server.url);
    await page.fill("#api-key", "fedml_not-a-key");
    await page.click("button[type=submit]");
    const alert = await page.waitForSelector("[role=alert]");
    assert.match(await alert.innerText(), /API key not accepted/);
    assert.deepEqual(await page.context().cookies(), []);
    assert.equal((await fetchInPage(page, "/api/v1/runs")).status, 401);
  });

  test("signing in sets an httpOnly SameSite=Strict cookie, never readable by the page, and sign-out ends it", async () => {
    const page = await (await newContext()).newPage();
    await signIn(page, server.url, alice.apiKey);
    await page.waitForSelector("[data-testid=no-runs], [data-testid=runs-table]");
    const [cookie] = await page.context().cookies();
    assert.equal(cookie.name, "fedml_session");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    assert.equal(await page.evaluate("document.cookie"), "");
    assert.equal(await page.evaluate("JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"), "{}{}");
    assert.ok(!page.url().includes(alice.apiKey));
    // Every page is a client route of the same app.
    for (const [label, path] of [
      ["Devices & offers", "/devices"],
      ["Clusters", "/clusters"],
      ["Runs", "/runs"],
    ]) {
      await page.click(`nav >> text=${label}`);
      await page.waitForURL(`${server.url}${path}`);
    }
    await page.click("text=Sign out");
    await page.waitForSelector("#api-key");
    assert.equal((await fetchInPage(page, "/api/v1/runs")).status, 401);
  });

  test("a cookie-signed call that changes state needs the dashboard's header", async () => {
    const runId = await launch(alice, "quick", "echo quick");
    await waitForRunEnd(runId, alice);
    const page = await (await newContext()).newPage();
    await signIn(page, server.url, alice.apiKey);
    const bare = await fetchInPage(page, `/api/v1/runs/${runId}/stop`, { method: "POST" });
    assert.equal(bare.status, 403);
    assert.match(bare.body, /x-fedml-dashboard/);
    const marked = await fetchInPage(page, `/api/v1/runs/${runId}/stop`, {
      method: "POST",
      headers: { "x-fedml-dashboard": "1" },
    });
    assert.equal(marked.status, 200);
  });

  test("user B gets a 404 page and 404 data calls for user A's run", async () => {
    const runId = await launch(alice, "mine", "echo alice");
    const page = await (await newContext()).newPage();
    await signIn(page, server.url, bob.apiKey);
    const response = await page.goto(`${server.url}/runs/${runId}`);
    assert.equal(response?.status(), 404);
    await page.waitForSelector("[data-testid=not-found]");
    for (const path of [`/runs/${runId}`, `/runs/${runId}/logs`, `/runs/${runId}/log-lines`]) {
      assert.equal((await fetchInPage(page, `/api/v1${path}`)).status, 404, path);
    }
    const unknown = await page.goto(`${server.url}/runs/999999`);
    assert.equal(unknown?.status(), 404);
    // Alice sees her own run's page.
    const own = await (await newContext()).newPage();
    await signIn(own, server.url, alice.apiKey, `/runs/${runId}`);
    await own.waitForSelector(`text=Run #${runId}`);
  });

  test("launches the hello-world example from the page (YAML + folder) and shows its logs live, then FINISHED", async () => {
    const page = await (await newContext()).newPage();
    await signIn(page, server.url, alice.apiKey);
    await page.click("button:has-text('Launch')");
    await page.setInputFiles("input[name=yaml-file]", join(repoRoot, "examples/hello_world/job.yaml"));
    await page.setInputFiles("input[name=workspace-folder]", join(repoRoot, "examples/hello_world/hello_world"));
    await page.click("form[aria-label='Launch a job'] button[type=submit]");
    await page.waitForURL(/\/runs\/\d+$/);
    const runId = page.url().split("/").pop() ?? "";
    // The job's own output, streamed into the page as it runs.
    await page.waitForSelector("[data-testid=log-lines] >> text=Hello from FedML Launch!", { timeout: 30_000 });
    await page.waitForSelector("[data-testid=log-lines] >> text=hello world finished", { timeout: 30_000 });
    await page.waitForSelector("h1 .badge:has-text('FINISHED')", { timeout: 30_000 });
    await page.waitForSelector("[data-step=ended] >> text=FINISHED, exit code 0");
    const run = (await api.runStatus(null, runId, alice)).runList.runList[0];
    assert.equal(run.runName, "hello_world_FedMLLaunchApp");
    // The runs page lists it, and its filters find it.
    await page.click("nav >> text=Runs");
    await page.waitForSelector(`tr[data-run-id='${runId}'] .badge.tone-ok`);
    await page.fill("input[aria-label=Name]", "HELLO_world");
    await page.waitForSelector(`tr[data-run-id='${runId}']`);
    await page.fill("input[aria-label=Name]", "no-such-run");
    await page.waitForSelector("[data-testid=no-runs]");
  });

  test("a long run's logs follow live; a queued run shows why it waits; Stop asks, then stops", async () => {
    const job = "for i in $(seq 1 3000); do echo tick $i; sleep 0.1; done";
    const gpuJob = (name: string, text: string) =>
      writeJob(tmp.dir, name, `workspace: ws\njob: |\n  ${text}\ncomputing: {minimum_num_gpus: 1, resource_type: A100-80G}\n`, {
        "k.txt": "x",
      });
    const long = await api.launchJob(gpuJob("long", job), alice);
    assert.ok(long.runId, long.resultMsg);
    await waitForRunStatus(long.runId, ["RUNNING"], alice);
    const waiting = await api.launchJob(gpuJob("waiting", "echo my turn"), alice);
    assert.equal(waiting.resultCode, 5, waiting.resultMsg);
    assert.ok(waiting.runId);

    const page = await (await newContext()).newPage();
    await signIn(page, server.url, alice.apiKey, `/runs/${waiting.runId}`);
    const queued = await page.waitForSelector("[data-step=queued] .note");
    assert.match(await queued.innerText(), /GPU|busy|wait|free/i);

    await page.goto(`${server.url}/runs/${long.runId}`);
    await page.waitForSelector("[data-testid=log-lines] >> text=tick 3");
    // Later lines arrive without a reload.
    await page.waitForSelector("[data-testid=log-lines] >> text=/tick (1[5-9]|[2-9]\\d)$/", { timeout: 20_000 });
    await page.click("button.danger:has-text('Stop')");
    await page.waitForSelector("[role=dialog] >> text=Stop run");
    await page.click("[role=dialog] button:has-text('Stop the run')");
    await page.waitForSelector("h1 .badge:has-text('KILLED')", { timeout: 30_000 });
    // The GPU is free again: the queued run gets it.
    await waitForRunEnd(waiting.runId, alice);
  });
});
