// Three server replicas on one PostgreSQL, 20 agents (simulated GPUs) bound across them, many
// trivial runs launched round-robin through the three, and one replica SIGKILLed mid-drain
// and restarted. Checked from the store's history, not by timing: every run FINISHED once and
// ran once, no GPU ever held by two runs at once, every log line stored once; and the clients
// and agents that used the killed replica carried on through the others.
// FEDML_TEST_REPLICA_RUNS sets the run count (default 2,000).
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { api } from "fedml";
import pg from "pg";
import { onPostgres } from "../packages/server/test/support/database.js";
import { type AgentProcess, createUser, startAgent } from "./support/processes.js";
import { type Replicas, startReplicas } from "./support/replicas.js";
import { makeTempDir } from "./support/tmp.js";
import { waitFor } from "./support/wait.js";

const RUNS = Number(process.env.FEDML_TEST_REPLICA_RUNS ?? 2000);
const AGENTS = 20;
const GPUS_PER_AGENT = 4;
const REPLICAS = 3;
/** Launch calls in flight at once, spread over the replicas. */
const LAUNCH_WIDTH = 6;
const KILLED = 1;

const tmp = makeTempDir("replicas");
let replicas: Replicas | undefined;
const agents: AgentProcess[] = [];
let db: pg.Client | undefined;

after(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await replicas?.stop();
  await db?.end();
  if (!process.env.FEDML_TEST_KEEP) tmp.cleanup();
});

async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** Runs by status, for failure messages. */
async function statusCounts(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ status: string; n: number }>(
    "select status, count(*)::int as n from runs group by status",
  );
  return rows.map((r) => `${r.status} ${r.n}`).join(", ");
}

async function countFinished(client: pg.Client): Promise<{ ended: number; finished: number }> {
  const { rows } = await client.query<{ ended: number; finished: number }>(
    `select count(*) filter (where status in ('FINISHED', 'FAILED', 'KILLED'))::int as ended,
            count(*) filter (where status = 'FINISHED')::int as finished from runs`,
  );
  return rows[0];
}

/** Every (device, GPU) interval [placed, ended] must start at or after the previous one's end. */
function overlappingHolds(
  parts: { run_id: number; device_id: number; gpu_indices_json: string; placed_at: number; ended_at: number }[],
): string[] {
  const byGpu = new Map<string, { run: number; from: number; to: number }[]>();
  for (const p of parts) {
    for (const gpu of JSON.parse(p.gpu_indices_json) as number[]) {
      const key = `device ${p.device_id} gpu ${gpu}`;
      const list = byGpu.get(key) ?? [];
      list.push({ run: p.run_id, from: Number(p.placed_at), to: Number(p.ended_at) });
      byGpu.set(key, list);
    }
  }
  const clashes: string[] = [];
  for (const [gpu, holds] of byGpu) {
    holds.sort((a, b) => a.from - b.from || a.to - b.to);
    for (let i = 1; i < holds.length; i++) {
      if (holds[i].from < holds[i - 1].to) {
        clashes.push(
          `${gpu}: run ${holds[i].run} placed at ${holds[i].from} while run ${holds[i - 1].run} held it until ${holds[i - 1].to}`,
        );
      }
    }
  }
  return clashes;
}

test(
  `${REPLICAS} replicas on one PostgreSQL, ${AGENTS} agents, ${RUNS} runs, one replica killed mid-drain`,
  { skip: onPostgres ? false : "replicas need PostgreSQL: FEDML_TEST_DATABASE_URL is unset", timeout: 600_000 },
  async () => {
    process.env.FEDML_HOME = join(tmp.dir, "client-home");
    const started = Date.now();
    replicas = await startReplicas(tmp.dir, REPLICAS, ["--log-level", "warn"]);
    const r = replicas;
    db = new pg.Client({ connectionString: r.databaseUrl });
    await db.connect();
    const apiKey = await createUser({ url: r.servers[0].url, adminKey: r.adminKey }, "rita");

    // Agent i is bound first to replica i mod 3, with the others as its fallbacks.
    const firstReplicaOf = new Map<string, number>();
    const indexes = Array.from({ length: AGENTS }, (_, i) => i);
    await pool(indexes, 4, async (i) => {
      const agent = await startAgent(r.urlList(i % REPLICAS), apiKey, join(tmp.dir, `agent-${i}`), [
        "--simulate-gpus",
        `A100-80G:${GPUS_PER_AGENT}:80`,
        "--max-jobs",
        String(GPUS_PER_AGENT),
      ]);
      agents.push(agent);
      firstReplicaOf.set(agent.deviceId, i % REPLICAS);
    });
    const setUpAt = Date.now();

    // Each run appends a line to its own file: a job that ran twice leaves two. Each launch
    // names its run, so a client whose launch answer was lost with the replica can look for it.
    const marks = join(tmp.dir, "marks");
    mkdirSync(marks);
    const jobs = join(tmp.dir, "jobs");
    mkdirSync(jobs);
    const yamlOf = (i: number) => {
      const file = join(jobs, `launch-${i}.yaml`);
      writeFileSync(
        file,
        `job_name: launch-${i}\njob: |\n  echo "run $FEDML_CURRENT_RUN_ID a"\n  echo "run $FEDML_CURRENT_RUN_ID b"\n  echo x >> "${marks}/$FEDML_CURRENT_RUN_ID"\ncomputing:\n  minimum_num_gpus: 1\n`,
      );
      return file;
    };
    // Client k knows every replica and starts at replica k.
    const clientOf = (k: number) => ({ serverUrl: r.urlList(k % REPLICAS), apiKey });
    const runIds: string[] = [];
    let lostAnswers = 0;
    const launchOne = async (i: number) => {
      const client = clientOf(i);
      try {
        const launched = await api.launchJob(yamlOf(i), client);
        assert.ok(
          launched.resultCode === 0 || launched.resultCode === 5,
          `launch ${i}: ${launched.resultCode} ${launched.resultMsg}`,
        );
        runIds.push(launched.runId as string);
      } catch (err) {
        // The replica died with the launch in flight: it may or may not have stored it.
        if (!/cannot reach/.test((err as Error).message)) throw err;
        lostAnswers++;
        const { runList } = await api.runList(`launch-${i}`, client);
        if (runList.length === 1) runIds.push(runList[0].runId);
        else await launchOne(i);
      }
    };

    // Launch round-robin; kill one replica once 40% are in, restart it a few seconds later.
    let killedAt = 0;
    let atKill = { ended: 0, finished: 0 };
    let restarted: Promise<unknown> = Promise.resolve();
    const killAfter = Math.floor(RUNS * 0.4);
    await pool(
      Array.from({ length: RUNS }, (_, i) => i),
      LAUNCH_WIDTH,
      async (i) => {
        if (i === killAfter) {
          atKill = await countFinished(db as pg.Client);
          killedAt = Date.now();
          await r.servers[KILLED].crash();
          restarted = new Promise((resolve) => setTimeout(resolve, 5_000)).then(() => r.restart(KILLED));
        }
        await launchOne(i);
      },
    );
    const launchedAt = Date.now();
    await restarted;
    assert.ok(atKill.ended < RUNS, "every run had ended before the kill: nothing left to drain");
    process.stdout.write(
      `# launched ${RUNS} in ${((launchedAt - setUpAt) / 1000).toFixed(1)} s; ${atKill.ended} had ended at the kill; ${lostAnswers} launch answers lost with the killed replica\n`,
    );
    const watcher = clientOf(KILLED);

    const deadline = 300_000;
    await waitFor("every run to end", async () => (await countFinished(db as pg.Client)).ended === RUNS, deadline, 500).catch(
      async (err: Error) => assert.fail(`${err.message} (runs: ${await statusCounts(db as pg.Client)})`),
    );
    const drainedAt = Date.now();

    // Every run FINISHED, placed once (one part), and ran once.
    const { rows: runs } = await db.query<{ id: number; status: string; parts: number }>(
      `select r.id, r.status, (select count(*)::int from run_devices d where d.run_id = r.id) as parts from runs r order by r.id`,
    );
    assert.equal(runs.length, RUNS);
    assert.deepEqual(
      runs.filter((x) => x.status !== "FINISHED" || x.parts !== 1),
      [],
      "runs that did not end FINISHED with exactly one part",
    );
    assert.equal(runIds.length, RUNS);
    const { rows: twice } = await db.query("select name from runs group by name having count(*) > 1");
    assert.deepEqual(twice, [], "launches stored twice");
    assert.deepEqual(new Set(runIds.map(Number)), new Set(runs.map((x) => x.id)));
    const ranTwice = readdirSync(marks).filter((f) => readFileSync(join(marks, f), "utf8") !== "x\n");
    assert.equal(readdirSync(marks).length, RUNS);
    assert.deepEqual(ranTwice, [], "runs whose job ran more than once");

    // No GPU held by two runs at once: placement time to the part's end, per device and GPU.
    const { rows: parts } = await db.query(
      `select d.run_id, d.device_id, d.gpu_indices_json, r.placed_at, d.ended_at
         from run_devices d join runs r on r.id = d.run_id`,
    );
    assert.ok(parts.every((p) => p.placed_at !== null && p.ended_at !== null));
    assert.deepEqual(overlappingHolds(parts), []);

    // Every log line stored once, in order.
    const { rows: logs } = await db.query<{ run_id: number; texts: string[]; seqs: number[] }>(
      // Lines are stored in chunks (joined by "\n"; a one-line chunk's text is the line).
      `select run_id, array_agg(line order by first_seq, n) as texts, array_agg(first_seq + n - 1 order by first_seq, n) as seqs
         from log_chunks,
           lateral unnest(case when first_seq = last_seq then array[text] else string_to_array(text, E'\n') end)
             with ordinality as l(line, n)
        group by run_id`,
    );
    assert.equal(logs.length, RUNS);
    const wrongLogs = logs.filter((l) => l.seqs.join() !== "1,2" || l.texts.join("|") !== `run ${l.run_id} a|run ${l.run_id} b`);
    assert.deepEqual(wrongLogs.slice(0, 5), [], `${wrongLogs.length} runs whose logs are not their two lines once`);
    // And through the API, by the client that started at the killed replica.
    for (const runId of runIds.slice(0, 10)) {
      const page = await api.runLogs(runId, 1, 10, { ...watcher, needAllLogs: true });
      assert.deepEqual(page.logLineList, [`run ${runId} a`, `run ${runId} b`]);
    }

    // The agents first bound to the killed replica carried on through the others: each was
    // heard from after the kill and none went OFFLINE; the fleet still gave some of them runs.
    const ofKilled = [...firstReplicaOf].filter(([, k]) => k === KILLED).map(([device]) => Number(device));
    const { rows: devices } = await db.query<{ id: number; status: string; last_seen_at: number }>(
      "select id, status, last_seen_at from devices where id = any($1::int[])",
      [ofKilled],
    );
    assert.deepEqual(
      devices.filter((d) => d.status === "OFFLINE" || Number(d.last_seen_at) <= killedAt).map((d) => d.id),
      [],
      "agents of the killed replica not heard from since the kill",
    );
    const { rows: lateParts } = await db.query<{ n: number }>(
      "select count(*)::int as n from run_devices d join runs r on r.id = d.run_id where r.placed_at > $1 and d.device_id = any($2::int[])",
      [killedAt, ofKilled],
    );
    assert.ok(lateParts[0].n > 0, "no agent of the killed replica ran a run placed after the kill");

    process.stdout.write(
      `# ${RUNS} runs: set-up ${((setUpAt - started) / 1000).toFixed(1)} s, launches ${((launchedAt - setUpAt) / 1000).toFixed(1)} s, ` +
        `drained ${((drainedAt - setUpAt) / 1000).toFixed(1)} s after the first launch (${((RUNS * 1000) / (drainedAt - setUpAt)).toFixed(0)} runs/s); ` +
        `${atKill.ended} ended at the kill\n`,
    );
  },
);
