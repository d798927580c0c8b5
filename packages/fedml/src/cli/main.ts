#!/usr/bin/env node
/** The `fedml` command. */
import { createRequire } from "node:module";
import { Command } from "commander";
import { registerClusterCommands } from "./commands/cluster.js";
import { registerDeviceCommands } from "./commands/device.js";
import { registerEndpointCommands } from "./commands/endpoint.js";
import { registerLaunchCommand } from "./commands/launch.js";
import { registerLoginCommands } from "./commands/login.js";
import { registerMarketplaceCommands } from "./commands/marketplace.js";
import { registerRunCommands } from "./commands/run.js";
import { registerServerCommands } from "./commands/server.js";
import { registerUserCommands } from "./commands/user.js";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

export function buildProgram(): Command {
  const program = new Command("fedml")
    .description("FedML Launch: run any AI job on GPUs from many providers")
    .version(version)
    .showSuggestionAfterError();
  registerLoginCommands(program);
  registerLaunchCommand(program);
  registerRunCommands(program);
  registerClusterCommands(program);
  registerDeviceCommands(program);
  registerEndpointCommands(program);
  registerServerCommands(program);
  registerUserCommands(program);
  registerMarketplaceCommands(program);
  return program;
}

await buildProgram().parseAsync(process.argv);
