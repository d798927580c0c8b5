/** `fedml device bind | unbind | list`: this machine as a compute device of a server. */
import { join } from "node:path";
import type { Command } from "commander";
import { type DeviceModel, FedmlError, ResultCode, resolveApiKey } from "@fedml/core";
import { loadAgent } from "../../agent-link.js";
import { api } from "../../api/index.js";
import { fedmlHome, resolveClientConfig } from "../../config.js";
import { ensureLocalServer } from "../../embedded/index.js";
import { isPidAlive, readPidFile } from "../../embedded/processes.js";
import { action, parseInteger, parseNumber } from "../action.js";
import { formatTable, formatUsd, printJson, printLine, printNote } from "../output.js";

export interface BindFlags {
  server?: string;
  name?: string;
  provider?: string;
  region?: string;
  price?: number;
  shared?: boolean;
  simulateGpus?: string;
  maxJobs?: number;
  jobUser?: string;
  allowSharedWithoutIsolation?: boolean;
  apiKeyStdin?: boolean;
  apiKeyFile?: string;
  json?: boolean;
  slurm?: boolean;
  partition?: string;
  account?: string;
  qos?: string;
  slurmDir?: string;
  sbatchArg?: string[];
}

/** `fedml device bind --json` prints this. */
export interface BindResult {
  deviceId: string;
  serverUrl: string;
  pid: number;
  /** Who the device's jobs run as. */
  notice: string;
}

export function deviceAgentHome(home: string): string {
  return join(home, "agent");
}

/** The bind flags, shared with `fedml login -c`. */
export function addBindOptions(command: Command): Command {
  return command
    .option("--name <name>", "device name (default: the hostname)")
    .option("--provider <provider>", "who provides the machine (shown to users)")
    .option("--region <region>", "where the machine is")
    .option("--price <usd>", "price per GPU hour in USD", parseNumber("--price"))
    .option("--shared", "offer the machine to every user of the server")
    .option("--simulate-gpus <spec>", "pretend to have GPUs, TYPE:COUNT[:MEM_GB] (for tests and demos)")
    .option("--max-jobs <n>", "how many runs may share the machine at once", parseInteger("--max-jobs"))
    .option("--job-user <who>", "pool: jobs run as users of their own when root (default); agent: as the agent's user")
    .option("--allow-shared-without-isolation", "allow --shared although jobs would run as the agent's own user")
    .option("--api-key-stdin", "read the API key from stdin (keeps it out of `ps`; so does API_KEY -)")
    .option("--api-key-file <file>", "read the API key from a file")
    .option("--slurm", "this machine is a Slurm login node: offer a partition's GPUs, run parts as sbatch jobs (docs/slurm.md)")
    .option("--partition <name>", "with --slurm: the partition to offer and submit to (default: Slurm's default)")
    .option("--account <name>", "with --slurm: sbatch --account")
    .option("--qos <name>", "with --slurm: sbatch --qos")
    .option("--slurm-dir <dir>", "with --slurm: a folder every node sees (default: <FEDML_HOME>/agent/slurm-runs)")
    .option(
      "--sbatch-arg <arg>",
      "with --slurm: one more sbatch option, e.g. --sbatch-arg=--constraint=a100 (repeatable)",
      collect,
      [],
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The key from the argument, stdin, a file or FEDML_API_KEY (never needs to sit in argv). */
export function apiKeyOf(argument: string | undefined, flags: Pick<BindFlags, "apiKeyStdin" | "apiKeyFile">): string {
  return resolveApiKey({ argument, stdin: flags.apiKeyStdin, file: flags.apiKeyFile });
}

/** Binds this machine (agent home `<FEDML_HOME>/agent`) and starts its daemon, replacing a running one. */
export async function bindDevice(apiKey: string, flags: BindFlags): Promise<BindResult> {
  const home = fedmlHome();
  const agentHome = deviceAgentHome(home);
  const { serverUrl: configured } = resolveClientConfig({ serverUrl: flags.server, apiKey }, home);
  const serverUrl = configured ?? (await ensureLocalServer(home)).url;
  const { registerDevice, spawnAgentDaemon, stopAgentDaemon, slurmSettingsOf } = await loadAgent();
  const slurmOnly = flags.slurm
    ? null
    : ((["partition", "account", "qos", "slurmDir"] as const).find((k) => flags[k] !== undefined) ??
      ((flags.sbatchArg?.length ?? 0) > 0 ? "sbatchArg" : null));
  if (slurmOnly) {
    const flag = slurmOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `--${flag} needs --slurm`);
  }
  const slurm = flags.slurm
    ? slurmSettingsOf(agentHome, {
        partition: flags.partition,
        account: flags.account,
        qos: flags.qos,
        sharedDir: flags.slurmDir,
        extraArgs: flags.sbatchArg,
      })
    : null;
  if (isPidAlive(readPidFile(join(agentHome, "agent.pid")))) await stopAgentDaemon(agentHome, 10_000);
  const { deviceId, notice } = await registerDevice({
    home: agentHome,
    serverUrl,
    apiKey,
    name: flags.name,
    provider: flags.provider,
    region: flags.region,
    pricePerGpuHour: flags.price,
    shared: flags.shared,
    simulateGpus: flags.simulateGpus,
    maxJobs: flags.maxJobs,
    jobUser: jobUserFlag(flags.jobUser),
    allowSharedWithoutIsolation: flags.allowSharedWithoutIsolation,
    slurm,
  });
  const { pid } = await spawnAgentDaemon(agentHome, { logFile: join(agentHome, "agent.log") });
  return { deviceId: String(deviceId), serverUrl, pid, notice };
}

function jobUserFlag(value: string | undefined): "pool" | "agent" | undefined {
  if (value === undefined || value === "pool" || value === "agent") return value;
  throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `--job-user must be pool or agent, got "${value}"`);
}

export function printBindResult(result: BindResult, json: boolean | undefined): void {
  if (json) {
    printJson(result);
    return;
  }
  printNote(result.notice);
  printLine(`device ${result.deviceId} bound to ${result.serverUrl}; agent running (pid ${result.pid})`);
}

export function registerDeviceCommands(program: Command): void {
  const device = program.command("device").description("bind this machine as a compute device, or list devices");

  addBindOptions(
    device
      .command("bind")
      .description("bind this machine to a server and start its agent daemon")
      .argument("[API_KEY]", "your API key; - reads it from stdin (default: --api-key-file, else FEDML_API_KEY)")
      .option("--server <url>", "the server (default: the configured one, else the embedded default)"),
  )
    .option("--json", "print the result as JSON: {deviceId, serverUrl, pid, notice}")
    .action(
      action(async (apiKey: string | undefined, flags: BindFlags) => {
        printBindResult(await bindDevice(apiKeyOf(apiKey, flags), flags), flags.json);
      }),
    );

  device
    .command("unbind")
    .description("stop this machine's agent and remove its binding")
    .option("--json", "print the result as JSON: {unbound, deviceId, serverError}")
    .action(
      action(async (flags: { json?: boolean }) => {
        const agentHome = deviceAgentHome(fedmlHome());
        const { stopAgentDaemon, unregisterDevice } = await loadAgent();
        await stopAgentDaemon(agentHome, 10_000);
        const result = await unregisterDevice(agentHome);
        if (flags.json) return printJson(result);
        if (!result.unbound) throw new FedmlError(ResultCode.ERROR, `this machine is not bound (no agent.json in ${agentHome})`);
        printLine(`device ${result.deviceId} unbound`);
        if (result.serverError) printNote(`the server was not told: ${result.serverError}`);
      }),
    );

  device
    .command("list")
    .description("your devices (admins: every user's with --all-users); fedml offers lists what you may run on")
    .option("--all-users", "admins: every user's devices")
    .option("--json", "print the SDK's object: {deviceList}")
    .action(
      action(async (flags: { json?: boolean; allUsers?: boolean }) => {
        const result = await api.deviceList({ allUsers: flags.allUsers });
        if (flags.json) return printJson(result);
        printLine(formatTable(result.deviceList, deviceColumns));
        // A Slurm device is a whole partition: its nodes, and what Slurm says of each.
        for (const d of result.deviceList) {
          if (!d.clusterNodes?.length) continue;
          printLine(`\ndevice ${d.deviceId} (${d.name}): ${d.osVersion}`);
          printLine(formatTable(d.clusterNodes, clusterNodeColumns));
        }
        // Users' most common complaint: a GPU machine that shows no GPU, with no reason given.
        for (const d of result.deviceList) {
          if (d.gpuCount === 0 && d.gpuError) printNote(`device ${d.deviceId} (${d.name}) has no GPU: ${d.gpuError}`);
        }
      }),
    );
}

export const deviceColumns = [
  { header: "ID", value: (d: DeviceModel) => String(d.deviceId) },
  { header: "NAME", value: (d: DeviceModel) => d.name },
  { header: "STATUS", value: (d: DeviceModel) => d.status },
  { header: "GPUS", value: (d: DeviceModel) => gpuSummary(d) },
  { header: "PROVIDER", value: (d: DeviceModel) => d.provider || "-" },
  { header: "REGION", value: (d: DeviceModel) => d.region || "-" },
  { header: "$/GPU-H", value: (d: DeviceModel) => formatUsd(d.pricePerGpuHour).slice(1), alignRight: true },
  { header: "OWNER", value: (d: DeviceModel) => `${d.ownerName}${d.shared ? " (shared)" : ""}` },
  { header: "RUNS", value: (d: DeviceModel) => (d.runningRunIds.length ? d.runningRunIds.join(",") : "-") },
];

type ClusterNode = NonNullable<DeviceModel["clusterNodes"]>[number];

const clusterNodeColumns = [
  { header: "NODE", value: (n: ClusterNode) => n.name },
  { header: "STATE", value: (n: ClusterNode) => n.state },
  { header: "GPUS", value: (n: ClusterNode) => (n.gpus > 0 ? `${n.gpus}x ${n.gpuModel ?? "GPU"}` : "0") },
  { header: "CPUS", value: (n: ClusterNode) => String(n.cpus), alignRight: true },
  { header: "REASON", value: (n: ClusterNode) => n.reason || "-" },
];

function gpuSummary(device: DeviceModel): string {
  if (device.gpuCount === 0) return "0";
  const names = [...new Set(device.gpus.map((g) => g.name))];
  return `${device.gpuCount}x ${names.join("/")}${device.simulated ? " (sim)" : ""}`;
}
