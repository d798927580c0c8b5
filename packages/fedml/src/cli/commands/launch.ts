/** `fedml launch JOB.yaml`: launch, then follow the run's output until it ends. */
import type { Command } from "commander";
import { FedmlError, type LaunchResult, RunStatus } from "@fedml/core";
import { api } from "../../api/index.js";
import { progressLine } from "../../workspace/progress.js";
import { action } from "../action.js";
import { printJson, printLine, printNote } from "../output.js";
import { printDryRun } from "./marketplace.js";

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
    .description("launch a job and follow its output; exits 0 only if the run FINISHED")
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
    return dry.resultCode === 0 || dry.resultCode === 5 ? 0 : 1;
  }
  const result = flags.cluster
    ? await api.launchJobOnCluster(yamlFile, flags.cluster, options)
    : await api.launchJob(yamlFile, options);
  if (flags.json) printJson(result);
  if (result.runId === null) throw new FedmlError(result.resultCode, result.resultMsg);
  const runId = result.runId;
  const say = flags.json ? printNote : printLine;
  if (!flags.json) await describeLaunch(result, runId);
  if (flags.detach) return 0;

  const stopFollowing = new AbortController();
  const onInterrupt = () => stopFollowing.abort();
  process.once("SIGINT", onInterrupt);
  try {
    const finalStatus = await api.followRunLogs(runId, (line) => say(line), { signal: stopFollowing.signal });
    say(`run ${runId} ${finalStatus}`);
    return finalStatus === RunStatus.FINISHED ? 0 : 1;
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
