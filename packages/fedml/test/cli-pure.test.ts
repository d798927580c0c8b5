// The CLI's pure parts: exit codes of a run, the original CLI's flags, small money, log line tags.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatLogLine } from "../src/cli/commands/run.js";
import { exitCodeOfRun } from "../src/cli/exit-code.js";
import { rewriteLegacyFlags } from "../src/cli/legacy-flags.js";
import { formatUsd } from "../src/cli/output.js";

describe("CLI pure parts", () => {
  test("a run's exit code: 0 finished, the node's own code, 1 without one, 143 stopped", () => {
    assert.equal(exitCodeOfRun({ status: "FINISHED", exitCode: 0 }), 0);
    assert.equal(exitCodeOfRun({ status: "FAILED", exitCode: 7 }), 7);
    assert.equal(exitCodeOfRun({ status: "FAILED", exitCode: null }), 1);
    assert.equal(exitCodeOfRun({ status: "FAILED", exitCode: 0 }), 1, "a failed run never exits 0");
    assert.equal(exitCodeOfRun({ status: "FAILED", exitCode: 300 }), 1, "beyond what a process can exit with");
    assert.equal(exitCodeOfRun({ status: "KILLED", exitCode: null }), 143);
    assert.equal(exitCodeOfRun({ status: "ABANDONED", exitCode: null }), 1);
    assert.equal(exitCodeOfRun(undefined), 1);
  });

  test("the original's flags become ours, in both spellings, up to --", () => {
    assert.deepEqual(rewriteLegacyFlags(["run", "logs", "-rid", "7", "-pn", "2", "-ps=50", "--api_key", "k", "-pf", "octopus"]), [
      "run",
      "logs",
      "--run-id",
      "7",
      "--page",
      "2",
      "--size=50",
      "--api-key",
      "k",
      "--platform",
      "octopus",
    ]);
    assert.deepEqual(rewriteLegacyFlags(["launch", "--", "-rid"]), ["launch", "--", "-rid"]);
    assert.deepEqual(rewriteLegacyFlags(["-k", "x", "--need_all_logs"]), ["-k", "x", "--all"]);
  });

  test("small costs keep their digits", () => {
    assert.equal(formatUsd(0), "$0.00");
    assert.equal(formatUsd(1.5), "$1.50");
    assert.equal(formatUsd(0.000123), "$0.000123");
  });

  test("log lines carry their node only when there are several", () => {
    const line = { rank: 1, deviceId: "3", deviceName: "h100-box", seq: 1, time: Date.UTC(2026, 0, 2, 3, 4, 5), text: "hi" };
    assert.equal(formatLogLine(line, 1, {}), "hi");
    assert.equal(formatLogLine(line, 2, {}), "[rank 1 h100-box] hi");
    assert.equal(formatLogLine(line, 2, { timestamps: true }), "[rank 1 h100-box] 2026-01-02T03:04:05.000Z hi");
  });
});
