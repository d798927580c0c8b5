// The server says what it did: structured (pino JSON) event lines with run and device ids,
// at the level --log-level sets.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { waitFor } from "../../../test/support/wait.js";
import { deviceFacts, simpleJob } from "./support/server.js";
import { tempDir } from "./support/tmp.js";

const binPath = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const loaderArgs = process.execArgv.flatMap((arg, i, all) =>
  arg === "--import" ? [arg, all[i + 1]] : arg.startsWith("--import=") ? [arg] : [],
);
const tmp = tempDir("events");
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  tmp.cleanup();
});

test("device and run events are logged as JSON with their ids; a bad --log-level is refused", async () => {
  const bad = spawnSync(process.execPath, [...loaderArgs, binPath, "--home", tmp.dir, "--log-level", "loud"], {
    encoding: "utf8",
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--log-level must be one of .*, not "?loud"?/);

  const child = spawn(process.execPath, [...loaderArgs, binPath, "--home", tmp.dir, "--port", "0", "--log-level", "info"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  let out = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  const events = () =>
    out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => typeof e.event === "string");
  const record = join(tmp.dir, "server", "server.json");
  const { url } = await waitFor(
    "server.json",
    () => (existsSync(record) ? JSON.parse(readFileSync(record, "utf8")) : undefined),
    60_000,
  );
  const admin = readFileSync(join(tmp.dir, "server", "admin-key"), "utf8").trim();
  const call = async (key: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return res.json() as Promise<Record<string, unknown>>;
  };
  const user = (await call(admin, "POST", "/api/v1/users", { name: "ev" })).apiKey as string;
  const device = await call(user, "POST", "/api/v1/agent/register", { facts: deviceFacts("ev1") });
  const placed = await call(user, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
  const queued = await call(user, "POST", "/api/v1/runs", { yamlText: simpleJob(), workspaceSha256: null });
  assert.deepEqual([placed.resultCode, queued.resultCode], [0, 5]);
  await call(user, "POST", `/api/v1/runs/${queued.runId}/stop`);
  const token = device.deviceToken as string;
  await call(token, "POST", `/api/v1/agent/runs/${placed.runId}/status`, { status: "FAILED", exitCode: 3 });

  const deviceId = Number(device.deviceId);
  const find = (event: string, runId?: unknown) =>
    waitFor(event, () => events().find((e) => e.event === event && (runId === undefined || e.runId === Number(runId))), 60_000);
  assert.equal((await find("device.online")).deviceId, deviceId);
  assert.deepEqual((await find("run.placed", placed.runId)).deviceIds, [deviceId]);
  assert.match(String((await find("run.queued", queued.runId)).reason), /job slot/);
  assert.equal((await find("run.stopped", queued.runId)).status, "KILLED");
  const failed = await find("run.failed", placed.runId);
  assert.equal(failed.exitCode, 3);
  assert.equal(failed.level, 40);
  child.kill("SIGTERM");
});
