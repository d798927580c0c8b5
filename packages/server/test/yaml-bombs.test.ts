import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type TestServer, startTestServer } from "./support/server.js";

/** A few hundred bytes that expand to 9^12 values: the classic nested-alias bomb. */
function aliasBomb(): string {
  const lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < 13; i++)
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(",")}]`,
    );
  return `job: echo hi\n${lines.join("\n")}\njob_args: *a12\n`;
}

/** ~90,000 keys, under the request size cap. */
function manyKeys(): string {
  const keys = Array.from({ length: 90_000 }, (_, i) => `  ${i.toString(36)}: 1`).join("\n");
  return `job: echo hi\nextra:\n${keys}\n`;
}

/**
 * Health checks, one after the other, while `busy` is pending: answers the slowest one's
 * time. Each check must come back within a second however slow the busy request is.
 */
async function slowestHealthWhile(t: TestServer, busy: Promise<unknown>): Promise<number> {
  let done = false;
  void busy.finally(() => {
    done = true;
  });
  let slowest = 0;
  let checks = 0;
  while (!done || checks === 0) {
    const t0 = performance.now();
    const health = await fetch(`${t.url}/api/v1/health`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(health.status, 200);
    slowest = Math.max(slowest, performance.now() - t0);
    checks++;
  }
  return slowest;
}

describe("hostile job YAML cannot freeze the server", () => {
  let t: TestServer;
  let key: string;
  before(async () => {
    t = await startTestServer();
    key = await t.createUser("bomber");
  });
  after(() => t.stop());

  const launch = (yamlText: string) => t.call(key, "POST", "/api/v1/runs", { yamlText, workspaceSha256: null });

  test("a nested-alias bomb is refused quickly with code 17; health answers meanwhile", async () => {
    const bomb = aliasBomb();
    assert.ok(bomb.length < 1000, `${bomb.length} bytes`);
    const t0 = performance.now();
    const refused = launch(bomb);
    const slowest = await slowestHealthWhile(t, refused);
    const r = await refused;
    const ms = performance.now() - t0;
    assert.equal(r.status, 400);
    assert.equal(r.body.resultCode, 17);
    assert.match(r.body.error, /expands to more than 100000 values once aliases are expanded/);
    assert.ok(ms < 3_000, `refused after ${ms} ms`);
    assert.ok(slowest < 1_000, `a health check took ${slowest} ms`);
  });

  test("90,000 keys under the size cap are refused quickly; health answers meanwhile", async () => {
    const text = manyKeys();
    assert.ok(text.length < 1_000_000, `${text.length}`);
    const t0 = performance.now();
    const refused = Promise.all([
      launch(text),
      t.call(key, "POST", "/api/v1/runs/dry-run", { yamlText: text, workspaceSha256: null }),
    ]);
    const slowest = await slowestHealthWhile(t, refused);
    const ms = performance.now() - t0;
    for (const r of await refused) {
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.resultCode, 17);
      assert.match(r.body.error, /more than 10000 keys/);
    }
    assert.ok(ms < 5_000, `refused after ${ms} ms`);
    assert.ok(slowest < 1_000, `a health check took ${slowest} ms`);
  });

  test("a typo is answered with every error at once, line and column, and nothing is stored", async () => {
    const typo = await launch("job: echo hi\ncomputing:\n  minimum_num_gpu: 1\n  device_typ: GPU\n");
    assert.equal(typo.status, 400);
    assert.equal(typo.body.resultCode, 17);
    assert.equal(
      typo.body.error,
      "job.yaml: 2 errors: job.yaml:3:3: computing.minimum_num_gpu: unknown key, did you mean minimum_num_gpus?; " +
        "job.yaml:4:3: computing.device_typ: unknown key, did you mean device_type?",
    );
    assert.deepEqual((await t.call(key, "GET", "/api/v1/runs")).body.runList, []);
  });
});
