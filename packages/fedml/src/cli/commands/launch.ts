/** `fedml launch JOB.yaml`: launch, then follow the run's output until it ends. */
import type { Command } from "commander";
import { FedmlError, type LaunchResult } from "@fedml/core";
import { api } from "../../api/index.js";
import { progressLine } from "../../workspace/progress.js";
import { FAILURE_EXIT, action } from "../action.js";
import { exitCodeOfRun } from "../exit-code.js";
import { printJson, printLine, printNote } from "../output.js";
import { printDryRun } from "./marketplace.js";
import { formatLogLine } from "./run.js";

interface LaunchFlags {
  detach?: boolean;
  dryRun?: boolean;
  resourceId?: string;
  deviceServer?: string;
  deviceEdges?: string;
  cluster?: string;
  json?: boolean;
}

export function registerLaunchCommand(program: Command): void {
  program
    .command("launch")
    .description(
      "launch a job and follow its output; exits with the run's exit code (0 FINISHED, the failing node's code, 143 stopped)",
    )
    .argument("<JOB_YAML>", "the job YAML file")
    .option("-d, --detach", "do not follow the run: exit once it is accepted")
    .option("--dry-run", "print the matching offers, cheapest first, and what a launch would do; launch nothing")
    .option("--resource-id <id>", "run on this device instead of the matched ones")
    .option("--device-server <id>", "federated jobs: the device id of the FL server (rank 0)")
    .option("--device-edges <ids>", "federated jobs: comma-separated device ids of the edges (ranks 1..N)")
    .option("-c, --cluster <name>", "run on this cluster")
    .option("--json", "print the SDK's LaunchResult as JSON; the run's output, if followed, goes to stderr")
    .action(action((yamlFile: string, flags: LaunchFlags) => launchCommand(yamlFile, flags)));
}

async function launchCommand(yamlFile: string, flags: LaunchFlags): Promise<number> {
  const edges = flags.deviceEdges
    ?.split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
  const options = {
    resourceId: flags.resourceId ?? null,
    deviceServer: flags.deviceServer ?? null,
    deviceEdges: edges && edges.length > 0 ? edges : null,
    onProgress: process.stdout.isTTY ? progressLine(process.stdout) : undefined,
  };
  if (flags.dryRun) {
    const dry = await api.launchDryRun(yamlFile, options);
    if (flags.json) printJson(dry);
    else printDryRun(dry);
    return dry.resultCode === 0 || dry.resultCode === 5 ? 0 : FAILURE_EXIT;
  }
  const result = flags.cluster
    ? await api.launchJobOnCluster(yamlFile, flags.cluster, options)
    : await api.launchJob(yamlFile, options);
  if (flags.json) printJson(result);
  if (result.runId === null) {
    // Under --json the LaunchResult just printed is the error object: it carries resultCode and resultMsg.
    if (flags.json) return FAILURE_EXIT;
    throw new FedmlError(result.resultCode, result.resultMsg);
  }
  const runId = result.runId;
  const say = flags.json ? printNote : printLine;
  if (!flags.json) await describeLaunch(result, runId);
  if (flags.detach) return 0;

  const stopFollowing = new AbortController();
  const onInterrupt = () => stopFollowing.abort();
  process.once("SIGINT", onInterrupt);
  try {
    const finalStatus = await api.followRunLogs(runId, (_text, line, nodeCount) => say(formatLogLine(line, nodeCount, {})), {
      signal: stopFollowing.signal,
    });
    const { runList } = await api.runStatus(null, runId);
    const exitCode = exitCodeOfRun(runList.runList[0]);
    say(`run ${runId} ${finalStatus}${exitCode !== 0 ? ` (exit ${exitCode})` : ""}`);
    return exitCode;
  } catch (err) {
    if (!stopFollowing.signal.aborted) throw err;
    printNote(`stopped following run ${runId}; it keeps running (fedml run stop ${runId} stops it)`);
    return 130;
  } finally {
    process.removeListener("SIGINT", onInterrupt);
  }
}

async function describeLaunch(result: LaunchResult, runId: string): Promise<void> {
  const { runList, status } = await api.runStatus(null, runId);
  const run = runList.runList[0];
  printLine(`run ${runId} launched: ${status}${result.resultCode !== 0 ? ` (${result.resultMsg})` : ""}`);
  if (run?.reason) printLine(`reason: ${run.reason}`);
  if (run?.runUrl) printLine(`url: ${run.runUrl}`);
  if (result.innerId) {
    const endpoint = await api.endpointStatus(result.innerId);
    printLine(`endpoint ${result.innerId}: ${endpoint.status}; send requests to ${endpoint.inferenceUrl} with your API key`);
  }
}
