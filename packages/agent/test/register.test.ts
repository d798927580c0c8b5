import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, afterEach, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FedmlError } from "@fedml/core";
import { readAgentConfig } from "../src/config.js";
import { agentBinPath, spawnAgentDaemon, stopAgentDaemon } from "../src/daemon-control.js";
import { readPid } from "../src/daemon/pid-file.js";
import { registerDevice, unregisterDevice } from "../src/register.js";
import { StandInServer } from "./stand-in-server.js";
import { eventually, isProcessLive } from "./support.js";

const server = new StandInServer();
const homes: string[] = [];
before(() => server.start());
after(() => server.stop());
afterEach(async () => {
  for (const home of homes.splice(0)) {
    await stopAgentDaemon(home, 5000);
    rmSync(home, { recursive: true, force: true });
  }
});
const newHome = () => {
  const home = mkdtempSync(join(tmpdir(), "fedml-bind-"));
  homes.push(home);
  return home;
};

describe("registerDevice / spawnAgentDaemon / stopAgentDaemon / unregisterDevice", () => {
  test("binds: agent.json (0600) holds the device token, not the API key", async () => {
    const home = newHome();
    const { deviceId } = await registerDevice({
      home,
      serverUrl: `${server.url}/`,
      apiKey: server.userKey,
      name: "gpu-box",
      simulateGpus: "H100:8:80",
      pricePerGpuHour: 2.5,
      shared: true,
    });
    assert.equal(deviceId, "dev-1");
    const config = readAgentConfig(home);
    assert.equal(config?.deviceToken, server.token);
    assert.equal(config?.serverUrl, server.url);
    assert.equal(config?.simulateGpus, "H100:8:80");
    assert.equal(statSync(join(home, "agent.json")).mode & 0o777, 0o600);
    const sent = server.registrations.at(-1);
    assert.equal(sent?.facts.gpus.length, 8);
    assert.equal(sent?.facts.pricePerGpuHour, 2.5);
    assert.equal(sent?.previousDeviceId, null);

    await registerDevice({ home, serverUrl: server.url, apiKey: server.userKey });
    assert.equal(server.registrations.at(-1)?.previousDeviceId, "dev-1");
  });

  test("a wrong key or a bad --simulate-gpus is one clear error", async () => {
    const home = newHome();
    await assert.rejects(registerDevice({ home, serverUrl: server.url, apiKey: "wrong" }), (error: unknown) => {
      assert.ok(error instanceof FedmlError);
      assert.equal(error.message, "invalid API key");
      assert.equal(error.httpStatus, 401);
      return true;
    });
    await assert.rejects(
      registerDevice({ home, serverUrl: server.url, apiKey: server.userKey, simulateGpus: "A100" }),
      /invalid simulated GPUs "A100"/,
    );
    await assert.rejects(
      registerDevice({ home, serverUrl: "http://127.0.0.1:9", apiKey: "k" }),
      /cannot reach the server at http:\/\/127.0.0.1:9/,
    );
    assert.equal(readAgentConfig(home), null);
  });

  test("the daemon starts in the background, says hello, stops on SIGTERM; unbind removes the binding", async () => {
    const home = newHome();
    await registerDevice({ home, serverUrl: server.url, apiKey: server.userKey, name: "bg-box", simulateGpus: "A100-80GB:1" });
    const hellos = server.hellos.length;
    const { pid } = await spawnAgentDaemon(home, { logFile: join(home, "agent.log") });
    assert.equal(readPid(home), pid);
    assert.ok(await eventually(() => server.hellos.length > hellos, 5000));
    await assert.rejects(spawnAgentDaemon(home), /agent already running \(pid \d+\)/);
    assert.deepEqual(await stopAgentDaemon(home, 5000), { stopped: true });
    assert.equal(isProcessLive(pid), false);
    assert.equal(readPid(home), null);
    assert.deepEqual(await unregisterDevice(home), { unbound: true, deviceId: "dev-1", serverError: null });
    assert.equal(server.unregistered, 1);
    assert.equal(readAgentConfig(home), null);
  });

  test("bin.js bind and unbind", async () => {
    const home = newHome();
    const run = (...args: string[]) => promisify(execFile)(process.execPath, [agentBinPath(), ...args]);
    const bound = await run("bind", "--home", home, "--server", server.url, "--api-key", server.userKey, "--max-jobs", "3");
    assert.match(bound.stdout, /device dev-1 bound/);
    assert.equal(readAgentConfig(home)?.maxJobs, 3);
    await assert.rejects(run("bind", "--home", home, "--server", server.url, "--api-key", "bad"), /error: invalid API key/);
    await assert.rejects(
      run("bind", "--home", home, "--server", server.url, "--api-key", "k", "--max-jobs", "x"),
      /--max-jobs must be a whole number/,
    );
    assert.match((await run("unbind", "--home", home)).stdout, /device dev-1 unbound/);
  });
});
