/** `fedml cluster list | exists | status | start | startall | stop | stopall | kill | killall | autostop`. */
import type { Command } from "commander";
import { type ClusterAction, FedmlError, type FedMLClusterModel } from "@fedml/core";
import { api } from "../../api/index.js";
import { action, parseNumber } from "../action.js";
import { formatError, formatTable, printJson, printLine, printNote } from "../output.js";

export function registerClusterCommands(program: Command): void {
  const cluster = program
    .command("cluster")
    .description("named sets of devices reserved for you: fedml launch -c NAME creates one");

  cluster
    .command("list")
    .description("your clusters (all not killed, or those named)")
    .argument("[NAMES...]", "only these clusters")
    .option("--json", "print the SDK's FedMLClusterModelList as JSON")
    .action(
      action(async (names: string[], flags: { json?: boolean }) => {
        const result = await api.clusterList(names);
        if (flags.json) return printJson(result);
        const missing = names.filter((n) => !result.clusterList.some((c) => c.clusterName === n));
        for (const name of missing) printNote(`no cluster named ${name}`);
        printClusters(result.clusterList);
        return missing.length > 0 ? 1 : 0;
      }),
    );

  cluster
    .command("exists")
    .description("whether you have a cluster of that name (exit 0 if so, 1 if not)")
    .argument("<NAME>", "the cluster's name")
    .option("--json", "print the SDK's answer as JSON: true or false")
    .action(
      action(async (name: string, flags: { json?: boolean }) => {
        const exists = await api.clusterExists(name);
        if (flags.json) printJson(exists);
        else printLine(exists ? `cluster ${name} exists` : `no cluster named ${name}`);
        return exists ? 0 : 1;
      }),
    );

  cluster
    .command("status")
    .description("the status of one cluster: IDLE, RUNNING, STOPPED or TERMINATED")
    .argument("<NAME>", "the cluster's name")
    .option("--json", "print the SDK's ClusterStatusResult as JSON: {status, clusterList}")
    .action(
      action(async (name: string, flags: { json?: boolean }) => {
        const result = await api.clusterStatus(name);
        if (flags.json) return printJson(result);
        printClusters(result.clusterList.clusterList);
        const reason = result.clusterList.clusterList[0]?.reason;
        if (reason) printLine(`reason: ${reason}`);
      }),
    );

  const verbs: [ClusterAction, string, string][] = [
    ["start", "take devices again (the same ones when free, else a matching set)", "started"],
    ["stop", "stop the clusters' runs and let their devices go; they can be started again", "stopped"],
    ["kill", "stop the clusters' runs and remove them for good (they cannot be started again)", "killed"],
  ];
  for (const [verb, description, done] of verbs) {
    cluster
      .command(verb)
      .description(description)
      .argument("<NAMES...>", "cluster names")
      .option("--json", "print the SDK's answer as JSON: true or false")
      .action(action((names: string[], flags: { json?: boolean }) => act(verb, names, done, flags)));
    cluster
      .command(`${verb}all`)
      .description(`${verb} all your clusters`)
      .option("--json", "print the SDK's answer as JSON: true or false")
      .action(action((flags: { json?: boolean }) => act(verb, null, done, flags)));
  }

  cluster
    .command("autostop")
    .description("stop a cluster by itself after it sat idle this long (default 15 minutes)")
    .argument("<NAME>", "the cluster's name")
    .requiredOption(
      "--idle-minutes <n>",
      "minutes with no live run (fractions allowed; 0 = never)",
      parseNumber("--idle-minutes"),
    )
    .option("--json", "print the SDK's FedMLClusterModel as JSON")
    .action(
      action(async (name: string, flags: { idleMinutes: number; json?: boolean }) => {
        const result = await api.clusterAutostop(name, flags.idleMinutes);
        if (flags.json) return printJson(result);
        printLine(
          flags.idleMinutes > 0
            ? `cluster ${name} stops after ${flags.idleMinutes} idle minutes`
            : `cluster ${name} never stops by itself`,
        );
      }),
    );
}

async function act(verb: ClusterAction, names: string[] | null, done: string, flags: { json?: boolean }): Promise<number> {
  const result = await api.clusterAction(verb, names);
  if (flags.json) printJson(result.done);
  for (const failure of result.failures) {
    process.stderr.write(`${formatError(new FedmlError(failure.resultCode, failure.reason))}\n`);
  }
  if (!flags.json) {
    const ok = result.clusterList.filter((c) => !result.failures.some((f) => f.clusterName === c.clusterName));
    if (ok.length > 0) printLine(`${done}: ${ok.map((c) => c.clusterName).join(", ")}`);
    else if (names === null && result.clusterList.length === 0) printLine("you have no clusters");
  }
  return result.done ? 0 : 1;
}

function printClusters(clusters: readonly FedMLClusterModel[]): void {
  printLine(
    formatTable(clusters, [
      { header: "NAME", value: (c) => c.clusterName },
      { header: "ID", value: (c) => c.clusterId },
      { header: "STATUS", value: (c) => c.status },
      { header: "DEVICES", value: (c) => c.deviceIds?.join(",") || "-" },
      { header: "LIVE RUNS", value: (c) => c.liveRunIds?.join(",") || "-" },
      { header: "IDLE STOP", value: (c) => (c.idleMinutes ? `${c.idleMinutes}m` : "never") },
    ]),
  );
}
