import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_JOB_YAML_LIMITS, FedmlError, ParsePool, ResultCode } from "../src/index.js";
import { loadersOnly } from "../src/job-yaml/pool.js";

/** 9^13 values once expanded: without the bounds, a parse that never ends. */
function aliasBomb(): string {
  const lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < 14; i++)
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(",")}]`,
    );
  return `job: echo hi\n${lines.join("\n")}\n`;
}

describe("ParsePool: job YAML parsed in worker threads with a deadline", () => {
  test("answers specs and every error as the in-thread parser does", async () => {
    const pool = new ParsePool({ deadlineMs: 10_000 });
    try {
      const spec = await pool.parse("job: echo hi\ncomputing: {minimum_num_gpus: 2}\n", { path: "/x/train.yaml" });
      assert.equal(spec.computing.minimumNumGpus, 2);
      await assert.rejects(pool.parse("job: x\ncomputing: {minimum_num_gpu: 2}\n", { path: "/x/train.yaml" }), (err) => {
        assert.ok(err instanceof FedmlError);
        assert.equal(err.resultCode, ResultCode.LAUNCH_JOB_STATUS_INVALID);
        assert.equal(err.message, "train.yaml:2:13: computing.minimum_num_gpu: unknown key, did you mean minimum_num_gpus?");
        return true;
      });
    } finally {
      await pool.close();
    }
  });

  test("a document read before is answered from the cache, even while the one worker is busy, as a copy of its own", async () => {
    const unbounded = { ...DEFAULT_JOB_YAML_LIMITS, maxExpandedNodes: Number.MAX_SAFE_INTEGER };
    const pool = new ParsePool({ deadlineMs: 60_000, size: 1, limits: unbounded });
    const sweep = "job: echo trial\ncomputing: {minimum_num_gpus: 1}\n";
    try {
      // Errors are not kept: a bad document is read (and refused) each time.
      for (let i = 0; i < 2; i++) {
        await assert.rejects(pool.parse("job: x\ncomputing: {minimum_num_gpu: 2}\n", { path: "bad.yaml" }), FedmlError);
      }
      const first = await pool.parse(sweep, { path: "sweep.yaml" });
      // The one worker is now held by a document that never ends.
      const stuck = pool.parse(aliasBomb()).catch((err: unknown) => err);
      const again = await pool.parse(sweep, { path: "sweep.yaml" });
      assert.deepEqual(again, first);
      assert.notEqual(again, first);
      again.computing.minimumNumGpus = 8;
      assert.equal((await pool.parse(sweep, { path: "sweep.yaml" })).computing.minimumNumGpus, 1);
      await pool.close();
      assert.ok((await stuck) instanceof FedmlError);
    } finally {
      await pool.close();
    }
  });

  test("launches of one document that arrive together share one read, each with a copy of its own", async () => {
    const pool = new ParsePool({ deadlineMs: 60_000 });
    const sweep = "job: echo trial\ncomputing: {minimum_num_gpus: 1}\n";
    const bad = "job: x\ncomputing: {minimum_num_gpu: 2}\n";
    try {
      const specs = await Promise.all(Array.from({ length: 40 }, () => pool.parse(sweep, { path: "sweep.yaml" })));
      const refusals = await Promise.all(
        Array.from({ length: 5 }, () => pool.parse(bad, { path: "bad.yaml" }).catch((err: unknown) => err)),
      );
      // Another path is another document (its errors name it).
      await pool.parse(sweep, { path: "other.yaml" });
      assert.deepEqual(pool.stats(), { readByWorkers: 3, shared: 43, fromCache: 0, workersStarted: 1 });
      for (const spec of specs) assert.deepEqual(spec, specs[0]);
      assert.equal(new Set(specs).size, specs.length);
      specs[0].computing.minimumNumGpus = 8;
      assert.equal(specs[1].computing.minimumNumGpus, 1);
      for (const err of refusals) {
        assert.ok(err instanceof FedmlError);
        assert.equal(err.message, "bad.yaml:2:13: computing.minimum_num_gpu: unknown key, did you mean minimum_num_gpus?");
      }
      // Read, the document is answered from the cache; a refusal is read again.
      await pool.parse(sweep, { path: "sweep.yaml" });
      await assert.rejects(pool.parse(bad, { path: "bad.yaml" }), FedmlError);
      assert.deepEqual(pool.stats(), { readByWorkers: 4, shared: 43, fromCache: 1, workersStarted: 1 });
    } finally {
      await pool.close();
    }
  });

  test("a parse past its deadline is refused with code 17, its worker ended, and the pool goes on", async () => {
    // Bounds lifted, so that only the deadline (or the worker's heap cap) can stop the bomb.
    const unbounded = {
      ...DEFAULT_JOB_YAML_LIMITS,
      maxExpandedNodes: Number.MAX_SAFE_INTEGER,
      maxExtraEnvVars: 1e12,
      maxExtraEnvChars: 1e15,
    };
    const pool = new ParsePool({ deadlineMs: 500, size: 1, limits: unbounded });
    try {
      const t0 = performance.now();
      await assert.rejects(pool.parse(aliasBomb()), (err) => {
        assert.ok(err instanceof FedmlError);
        assert.equal(err.resultCode, ResultCode.LAUNCH_JOB_STATUS_INVALID);
        assert.match(
          err.message,
          /^job\.yaml: (reading the job YAML took longer than 500 ms; refused|the job YAML could not be read: )/,
        );
        return true;
      });
      const ms = performance.now() - t0;
      // Loose: starting a worker from source (tsx) takes seconds on a loaded machine.
      assert.ok(ms < 20_000, `refused after ${ms} ms`);
      const spec = await pool.parse("job: echo next\n");
      assert.equal(spec.job?.posix, "echo next");
    } finally {
      await pool.close();
    }
  });

  test("a parse that waits on its parser thread starting is not refused as a backlog", async (t) => {
    // Waiting is bounded at 5 deadlines (250 ms here); a thread starting from source (tsx)
    // takes longer than that to load the parser.
    const pool = new ParsePool({ deadlineMs: 50 });
    try {
      const t0 = performance.now();
      const spec = await pool.parse("job: echo first\n");
      assert.equal(spec.job?.posix, "echo first");
      const ms = performance.now() - t0;
      // A machine that starts the thread within the bound has not waited past it: nothing was tested.
      if (ms <= 250) t.skip(`the parser thread started in ${Math.round(ms)} ms, within the bound`);
    } finally {
      await pool.close();
    }
  });

  test("a parser thread that refuses node's flags gets the module loaders alone", () => {
    const argv = ["--max-old-space-size=512", "--import", "tsx", "--test", "--loader=x.mjs", "-r", "dotenv/config"];
    const withProfile = [...argv, "--perf-basic-prof", "--conditions=dev"];
    assert.deepEqual(loadersOnly(withProfile), ["--import", "tsx", "--loader=x.mjs", "-r", "dotenv/config", "--conditions=dev"]);
  });

  test("text over the size cap is refused before it reaches a worker", async () => {
    const pool = new ParsePool();
    try {
      await assert.rejects(pool.parse(`job: x\n#${"x".repeat(1_000_001)}`), /at most 1000000 are accepted/);
    } finally {
      await pool.close();
    }
  });
});
