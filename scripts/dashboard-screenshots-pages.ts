/**
 * The screenshots of the devices & offers, clusters, endpoints, cost & credit and admin pages
 * (called by dashboard-screenshots.ts once its own shots are taken). The state pictured is
 * real: two shared devices of a provider registered through the agent API (and driven by it,
 * so that a paid run is charged), a cluster with a running and a queued run, the serve
 * example answering a request sent from the page.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DeviceFacts } from "@fedml/core";
import { api } from "fedml";
import type { Browser, Page } from "playwright-core";
import { signIn } from "../test/support/browser.js";
import { writeJob } from "../test/support/jobs.js";
import { repoRoot } from "../test/support/paths.js";
import type { ServerProcess } from "../test/support/processes.js";
import { type Caller, waitForRunStatus } from "../test/support/runs.js";

interface World {
  browser: Browser;
  server: ServerProcess;
  /** The user of the agent's device (its one A100). */
  alice: Caller;
  /** A provider with no agent: its devices are registered and driven through the agent API. */
  bob: Caller;
  dir: string;
  out: string;
}

const gpus = (n: number, name: string) => Array.from({ length: n }, (_, index) => ({ index, name, memoryMiB: 81920 }));

async function registerDevice(world: World, facts: Partial<DeviceFacts> & { name: string }): Promise<string> {
  const full: DeviceFacts = {
    hostname: facts.name,
    osType: "Linux",
    osVersion: "6.1",
    cpuCount: 32,
    memoryBytes: 256 * 2 ** 30,
    gpus: [],
    agentVersion: "0.1.0",
    address: "127.0.0.1",
    provider: "self",
    region: "local",
    pricePerGpuHour: 0,
    shared: true,
    simulated: true,
    maxJobs: 4,
    ...facts,
  };
  const res = await fetch(`${world.server.url}/api/v1/agent/register`, {
    method: "POST",
    headers: { authorization: `Bearer ${world.bob.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ facts: full }),
  });
  if (!res.ok) throw new Error(`register ${facts.name}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { deviceToken: string }).deviceToken;
}

async function asDevice(world: World, token: string, method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${world.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

async function launch(world: World, name: string, yaml: string, cluster?: string): Promise<string> {
  const path = writeJob(world.dir, name, yaml);
  const r = cluster ? await api.launchJobOnCluster(path, cluster, world.alice) : await api.launchJob(path, world.alice);
  if (!r.runId) throw new Error(`${name}: ${r.resultMsg}`);
  return r.runId;
}

async function shoot(page: Page, world: World, name: string): Promise<void> {
  await page.screenshot({ path: join(world.out, `${name}.png`), fullPage: true });
  process.stdout.write(`docs/screenshots/${name}.png\n`);
}

export async function shootOtherPages(world: World, adminKey: string): Promise<void> {
  const h100 = await registerDevice(world, {
    name: "lambda-h100-8x",
    gpus: gpus(8, "H100-80GB"),
    provider: "lambda",
    region: "us-east",
    pricePerGpuHour: 2.49,
  });
  const a100 = await registerDevice(world, {
    name: "runpod-a100-4x",
    gpus: gpus(4, "A100-80GB"),
    provider: "runpod",
    region: "eu-west",
    pricePerGpuHour: 1.19,
  });
  await api.userCredit("alice", 250, { serverUrl: world.server.url, apiKey: adminKey });

  // A paid run on the provider's A100s, charged when it ends.
  const paid = await launch(
    world,
    "paid",
    "job_name: sweep-lr\njob: python3 sweep.py\ncomputing: {minimum_num_gpus: 4, resource_type: A100-80G, maximum_cost_per_hour: $10}\nfedml_env: {project_name: llm}\n",
  );
  await asDevice(world, a100, "POST", `/api/v1/agent/runs/${paid}/status`, { status: "RUNNING" });
  await new Promise((r) => setTimeout(r, 1500));
  await asDevice(world, a100, "POST", `/api/v1/agent/runs/${paid}/status`, { status: "FINISHED", exitCode: 0 });

  const page = await (await world.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await signIn(page, world.server.url, world.alice.apiKey, "/devices");
  for (const token of [h100, a100]) await asDevice(world, token, "GET", "/api/v1/agent/assignments?waitMs=0");
  await page.waitForSelector("[data-testid=offers-table] >> text=lambda-h100-8x");
  await page.fill(
    "textarea[name=yaml]",
    "job: torchrun train.py\ncomputing:\n  minimum_num_gpus: 4\n  resource_type: A100-80G\n  maximum_cost_per_hour: $6\n",
  );
  await page.click("form[aria-label='Dry run'] button[type=submit]");
  await page.waitForSelector("[data-testid=dry-run-answer]");
  await shoot(page, world, "devices");

  // The serve example, on the agent's device (a job without GPUs could land on any device).
  const serveYaml = writeJob(
    world.dir,
    "serve",
    "workspace: ws\njob_type: serve\nserving_args: {model_name: tiny-logistic, endpoint_name: tiny-logistic}\njob: python3 serve.py\ncomputing: {minimum_num_gpus: 1, resource_type: A100-80G}\n",
    { "serve.py": readFileSync(join(repoRoot, "examples/serve_model/model/serve.py"), "utf8") },
  );
  const served = await api.launchJob(serveYaml, world.alice);
  if (!served.innerId) throw new Error(`serve example: ${served.resultMsg}`);
  await page.click("nav >> text=Endpoints");
  await page.waitForSelector(`tr[data-endpoint-id='${served.innerId}'] >> text=READY`, { timeout: 60_000 });
  await page.click("form[aria-label='Send a request'] button[type=submit]");
  await page.waitForSelector("[data-testid=inference-answer]");
  await shoot(page, world, "endpoints");
  await api.endpointDelete(served.innerId, world.alice);
  await waitForRunStatus(served.runId as string, ["KILLED", "FINISHED", "FAILED"], world.alice);

  // A cluster on the agent's device (free again): one run on it, one waiting its turn.
  const sleeper = "job: sleep 600\ncomputing: {minimum_num_gpus: 1}\n";
  await launch(world, "c-train", `job_name: train\n${sleeper}`, "dev-box");
  await launch(world, "c-eval", `job_name: eval\n${sleeper}`, "dev-box");
  await page.click("nav >> text=Clusters");
  await page.waitForSelector("tr[data-cluster=dev-box] >> text=RUNNING");
  await shoot(page, world, "clusters");

  await page.click("nav >> text=Cost & credit");
  await page.waitForSelector("[data-testid=ledger-table] >> text=charge");
  await shoot(page, world, "cost");
  await page.context().close();

  const admin = await (await world.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await signIn(admin, world.server.url, adminKey, "/admin");
  await admin.waitForSelector("[data-testid=all-runs-table]");
  await admin.waitForSelector("[data-testid=device-table] >> text=runpod-a100-4x");
  await shoot(admin, world, "admin");
  await admin.context().close();

  await api.clusterKill("dev-box", world.alice);
}
