#!/usr/bin/env node
/** fedml-agent bind | run | unbind (node's parseArgs: no CLI framework in the agent). */
import { parseArgs } from "node:util";
import { FedmlError, ResultCode, resolveApiKey } from "@fedml/core/contract";
import { compileForLongRun } from "@fedml/core/daemon-tiers";
import { defaultAgentHome } from "./config.js";
import { runAgent } from "./daemon.js";
import { registerDevice, unregisterDevice } from "./register.js";
import { delayOptimisation } from "./v8-settings.js";
import { type SlurmSettings, slurmSettingsOf } from "./slurm/settings.js";

const USAGE = `usage:
  fedml-agent bind --server URL[,URL...] (--api-key KEY | --api-key - | --api-key-stdin | --api-key-file FILE | FEDML_API_KEY=...)
                   [--home DIR] [--name N] [--provider P] [--region R]
                   [--price USD] [--shared] [--simulate-gpus TYPE:COUNT[:MEM_GB]] [--max-jobs N] [--address A]
                   [--job-user pool|agent] [--allow-shared-without-isolation] [--jobs-dir DIR]
                   [--container-runtime CMD|none] [--cgroup-root DIR] [--keep-failed-runs-minutes N] [--cache-max-mb N]
                   [--slurm [--partition P] [--account A] [--qos Q] [--slurm-dir SHARED_DIR] [--sbatch-arg ARG]...]
  fedml-agent run [--home DIR]      run the daemon in the foreground
  fedml-agent unbind [--home DIR]`;

function fail(message: string): never {
  throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, message);
}

function numberFlag(name: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    fail(`--${name} must be a ${integer ? "whole " : ""}number >= 0, got "${value}"`);
  }
  return n;
}

function slurmSettings(
  home: string,
  values: { slurm?: boolean; partition?: string; account?: string; qos?: string; "slurm-dir"?: string; "sbatch-arg"?: string[] },
): SlurmSettings | null {
  const slurmOnly = (["partition", "account", "qos", "slurm-dir", "sbatch-arg"] as const).find((k) => values[k] !== undefined);
  if (!values.slurm) {
    if (slurmOnly) fail(`--${slurmOnly} needs --slurm`);
    return null;
  }
  return slurmSettingsOf(home, {
    partition: values.partition,
    account: values.account,
    qos: values.qos,
    sharedDir: values["slurm-dir"],
    extraArgs: values["sbatch-arg"],
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      home: { type: "string" },
      server: { type: "string" },
      "api-key": { type: "string" },
      "api-key-stdin": { type: "boolean" },
      "api-key-file": { type: "string" },
      "job-user": { type: "string" },
      "allow-shared-without-isolation": { type: "boolean" },
      "jobs-dir": { type: "string" },
      "container-runtime": { type: "string" },
      "cgroup-root": { type: "string" },
      "keep-failed-runs-minutes": { type: "string" },
      "cache-max-mb": { type: "string" },
      name: { type: "string" },
      provider: { type: "string" },
      region: { type: "string" },
      price: { type: "string" },
      shared: { type: "boolean" },
      "simulate-gpus": { type: "string" },
      "max-jobs": { type: "string" },
      address: { type: "string" },
      slurm: { type: "boolean" },
      partition: { type: "string" },
      account: { type: "string" },
      qos: { type: "string" },
      "slurm-dir": { type: "string" },
      "sbatch-arg": { type: "string", multiple: true },
    },
  });
  const home = values.home ?? defaultAgentHome();
  switch (command) {
    case "bind": {
      if (!values.server) fail("bind needs --server URL");
      const apiKey = resolveApiKey({
        argument: values["api-key"],
        stdin: values["api-key-stdin"],
        file: values["api-key-file"],
      });
      const jobUser = values["job-user"];
      if (jobUser !== undefined && jobUser !== "pool" && jobUser !== "agent")
        fail(`--job-user must be pool or agent, got "${jobUser}"`);
      const keepMinutes = numberFlag("keep-failed-runs-minutes", values["keep-failed-runs-minutes"], false);
      const cacheMb = numberFlag("cache-max-mb", values["cache-max-mb"], false);
      const { deviceId, notice } = await registerDevice({
        home,
        serverUrl: values.server,
        apiKey,
        jobUser,
        allowSharedWithoutIsolation: values["allow-shared-without-isolation"],
        jobsDir: values["jobs-dir"],
        containerRuntime: values["container-runtime"],
        cgroupRoot: values["cgroup-root"],
        keepFailedRunsMs: keepMinutes === undefined ? undefined : keepMinutes * 60_000,
        cacheMaxBytes: cacheMb === undefined ? undefined : Math.floor(cacheMb * 1024 * 1024),
        name: values.name,
        provider: values.provider,
        region: values.region,
        pricePerGpuHour: numberFlag("price", values.price, false),
        shared: values.shared,
        simulateGpus: values["simulate-gpus"],
        maxJobs: numberFlag("max-jobs", values["max-jobs"], true),
        address: values.address,
        slurm: slurmSettings(home, values),
      });
      process.stdout.write(`${notice}\n`);
      process.stdout.write(
        `device ${deviceId} bound to ${values.server} (home ${home}); start it with: fedml-agent run --home ${home}\n`,
      );
      return 0;
    }
    case "run": {
      compileForLongRun();
      delayOptimisation();
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      await runAgent({ home, signal: controller.signal });
      return 0;
    }
    case "unbind": {
      const result = await unregisterDevice(home);
      if (!result.unbound) fail(`no device is bound in ${home}`);
      const note = result.serverError ? ` (the server was not told: ${result.serverError})` : "";
      process.stdout.write(`device ${result.deviceId} unbound${note}\n`);
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return command === undefined || command === "help" || command === "--help" ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`error: ${error.message.split("\n")[0]}\n`);
    process.exit(1);
  },
);
