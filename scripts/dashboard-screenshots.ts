/**
 * `npm run screenshots`: pictures of the dashboard's pages for the README, taken in Debian's
 * Chromium with the browser tests' harness, against a real server and agent running a few real
 * jobs. Writes docs/screenshots/<page>.png. Other pages add their own shots to SHOTS.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { api } from "fedml";
import type { Page } from "playwright-core";
import { launchChromium, signIn } from "../test/support/browser.js";
import { writeJob } from "../test/support/jobs.js";
import { repoRoot } from "../test/support/paths.js";
import { startServerWithAgent } from "../test/support/processes.js";
import { type Caller, waitForRunEnd, waitForRunStatus } from "../test/support/runs.js";
import { makeTempDir } from "../test/support/tmp.js";

const out = join(repoRoot, "docs", "screenshots");

interface Runs {
  finished: string;
  live: string;
  queued: string;
}

/** Each shot: a name and how to bring the page to the state pictured. */
const SHOTS: [name: string, show: (page: Page, url: string, runs: Runs) => Promise<void>][] = [
  [
    "runs",
    async (page, url) => {
      await page.goto(`${url}/runs`);
      await page.waitForSelector("[data-testid=runs-table] tbody tr");
    },
  ],
  [
    "launch",
    async (page, url) => {
      await page.goto(`${url}/runs`);
      await page.click("button:has-text('Launch')");
      await page.setInputFiles("input[name=yaml-file]", join(repoRoot, "examples/hello_world/job.yaml"));
    },
  ],
  [
    "run-logs",
    async (page, url, runs) => {
      await page.goto(`${url}/runs/${runs.live}`);
      await page.waitForSelector("[data-testid=log-lines] >> text=epoch 12");
    },
  ],
  [
    "run-search",
    async (page, url, runs) => {
      await page.goto(`${url}/runs/${runs.finished}`);
      await page.waitForSelector("[data-testid=log-lines] >> text=hello world finished");
      await page.fill("input[aria-label='Search the log']", "step 2");
      await page.press("input[aria-label='Search the log']", "Enter");
      await page.waitForSelector(".log-line.current");
    },
  ],
  ...(["devices", "clusters", "endpoints", "cost"] as const).map((name): [string, (page: Page, url: string) => Promise<void>] => [
    name,
    async (page, url) => {
      await page.goto(`${url}/${name}`);
      await page.waitForSelector("main.content h1");
      await page.waitForLoadState("networkidle");
    },
  ]),
  [
    "run-queued",
    async (page, url, runs) => {
      await page.goto(`${url}/runs/${runs.queued}`);
      await page.waitForSelector("[data-step=queued] .note");
    },
  ],
];

async function main(): Promise<void> {
  mkdirSync(out, { recursive: true });
  const tmp = makeTempDir("screenshots");
  const { server, agent, callers } = await startServerWithAgent(tmp.dir, {
    users: ["alice"],
    agentArgs: ["--name", "gpu-box-1", "--simulate-gpus", "A100-80G:1"],
  });
  const alice: Caller = callers[0];
  const browser = await launchChromium();
  try {
    const launch = async (name: string, yaml: string) => {
      const path = writeJob(tmp.dir, name, yaml, { "train.py": "print('hi')\n" });
      const r = await api.launchJob(path, alice);
      if (!r.runId) throw new Error(`${name}: ${r.resultMsg}`);
      return r.runId;
    };
    const hello = (await api.launchJob(join(repoRoot, "examples/hello_world/job.yaml"), alice)).runId ?? "";
    await waitForRunEnd(hello, alice);
    await launch(
      "failing",
      "workspace: ws\njob_name: data-prep\njob: |\n  echo loading shards; exit 3\ncomputing: {minimum_num_gpus: 0}\n",
    );
    const live = await launch(
      "train",
      'workspace: ws\njob_name: llama-finetune\njob: |\n  for i in $(seq 1 100000); do echo "epoch $i loss 0.$((RANDOM % 900 + 100)) lr 3e-4"; sleep 0.05; done\ncomputing: {minimum_num_gpus: 1, resource_type: A100-80G}\nfedml_env: {project_name: llm}\n',
    );
    await waitForRunStatus(live, ["RUNNING"], alice);
    const queued = await launch(
      "eval",
      "workspace: ws\njob_name: eval-sweep\njob: echo eval\ncomputing: {minimum_num_gpus: 1, resource_type: A100-80G}\nfedml_env: {project_name: llm}\n",
    );
    const runs = { finished: hello, live, queued };

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForSelector("#api-key");
    await page.screenshot({ path: join(out, "sign-in.png") });
    await signIn(page, server.url, alice.apiKey);
    for (const [name, show] of SHOTS) {
      await show(page, server.url, runs);
      await page.screenshot({ path: join(out, `${name}.png`) });
      process.stdout.write(`docs/screenshots/${name}.png\n`);
    }
    // The admin page, as the admin.
    const admin = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signIn(admin, server.url, server.adminKey, "/admin");
    await admin.waitForSelector("main.content h1");
    await admin.waitForLoadState("networkidle");
    await admin.screenshot({ path: join(out, "admin.png") });
    await api.runStop(live, alice);
  } finally {
    await browser.close();
    await agent.stop();
    await server.stop();
    tmp.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`screenshots: ${err.message}\n`);
    process.exit(1);
  },
);
