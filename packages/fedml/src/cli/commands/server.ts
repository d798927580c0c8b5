/** `fedml server start | stop | status`: the embedded default server and its local agent. */
import type { Command } from "commander";
import { fedmlHome } from "../../config.js";
import {
  ensureEmbedded,
  ensureLocalDevices,
  type LocalServerStatus,
  localServerStatus,
  stopLocal,
} from "../../embedded/index.js";
import { action, parseInteger } from "../action.js";
import { printJson, printLine, printNote } from "../output.js";

export function registerServerCommands(program: Command): void {
  const server = program.command("server").description("the embedded default server under FEDML_HOME");

  server
    .command("start")
    .description("start the local server and its local agent (if not running)")
    .option(
      "--local-devices <n>",
      "run N local devices (agent daemons) on this machine, e.g. 4 for a federated job",
      parseInteger("--local-devices"),
    )
    .option("--json", "print {running, url, pid, agentPid}")
    .action(
      action(async (flags: { json?: boolean; localDevices?: number }) => {
        const home = fedmlHome();
        await ensureEmbedded(home);
        if (flags.localDevices && flags.localDevices > 1) {
          const ids = await ensureLocalDevices(home, flags.localDevices);
          if (!flags.json) printNote(`local devices: ${ids.join(", ")}`);
        }
        const status = await localServerStatus(home);
        printStatus(status, flags.json);
        if (!flags.json && status.url) for (const line of officialClientSettings(status.url)) printLine(line);
      }),
    );

  server
    .command("stop")
    .description("stop the local agent, then the local server")
    .option("--json", "print {agentStopped, serverStopped}")
    .action(
      action(async (flags: { json?: boolean }) => {
        const result = await stopLocal(fedmlHome());
        if (flags.json) return printJson(result);
        printLine(result.serverStopped || result.agentStopped ? "local server stopped" : "local server was not running");
      }),
    );

  server
    .command("status")
    .description("whether the local server runs: its URL and PID, and the local agent's PID; exits 3 when it does not run")
    .option("--json", "print {running, url, pid, agentPid}")
    .action(
      action(async (flags: { json?: boolean }) => {
        const status = await localServerStatus(fedmlHome());
        printStatus(status, flags.json);
        return status.running ? 0 : NOT_RUNNING_EXIT;
      }),
    );
}

/**
 * The two settings that point the official Python `fedml` client (its `local` environment
 * version) at this server. Pure.
 */
export function officialClientSettings(serverUrl: string): string[] {
  const url = new URL(serverUrl);
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  return [
    'official FedML client (fedml.set_env_version("local")):',
    `  export FEDML_ENV_LOCAL_ON_PREMISE_PLATFORM_HOST=${url.hostname}`,
    `  export FEDML_ENV_LOCAL_ON_PREMISE_PLATFORM_PORT=${port}`,
  ];
}

/** What an LSB init script's `status` answers for a service that is not running. */
const NOT_RUNNING_EXIT = 3;

function printStatus(status: LocalServerStatus, json: boolean | undefined): void {
  if (json) {
    printJson(status);
    return;
  }
  if (!status.running) {
    printLine(`local server: not running${status.agentPid ? `; local agent pid ${status.agentPid}` : ""}`);
    return;
  }
  printLine(`local server: ${status.url} (pid ${status.pid})`);
  printLine(`local agent:  ${status.agentPid ? `pid ${status.agentPid}` : "not running"}`);
}
