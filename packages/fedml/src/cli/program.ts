/** The `fedml` command's tree of commands and options, built without running anything. */
import { createRequire } from "node:module";
import { Command } from "commander";
import { registerClusterCommands } from "./commands/cluster.js";
import { registerCompletionCommand } from "./commands/completion.js";
import { registerDeviceCommands } from "./commands/device.js";
import { registerEndpointCommands } from "./commands/endpoint.js";
import { registerLaunchCommand } from "./commands/launch.js";
import { registerLoginCommands } from "./commands/login.js";
import { registerEarningsCommand, registerMarketplaceCommands, registerOffersCommand } from "./commands/marketplace.js";
import { registerRunCommands } from "./commands/run.js";
import { registerServerCommands } from "./commands/server.js";
import { registerUserCommands } from "./commands/user.js";

export const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

export function buildProgram(): Command {
  const program = new Command("fedml")
    .description("FedML Launch: run any AI job on GPUs from many providers")
    .version(version, "-V, --version", "print the CLI's version")
    .option("-k, --api-key <key>", "the API key for this command (instead of fedml login or FEDML_API_KEY)")
    .showSuggestionAfterError();
  program.hook("preAction", (root) => {
    const apiKey = root.opts().apiKey as string | undefined;
    if (apiKey) process.env.FEDML_API_KEY = apiKey;
  });
  program
    .command("version")
    .description("print the CLI's version (as the original's fedml version)")
    .option("--json", "print {version}")
    .action((flags: { json?: boolean }) => {
      process.stdout.write(flags.json ? `${JSON.stringify({ version })}\n` : `fedml ${version}\n`);
    });
  registerLoginCommands(program);
  registerLaunchCommand(program);
  registerRunCommands(program);
  registerClusterCommands(program);
  registerDeviceCommands(program);
  registerOffersCommand(program);
  registerEndpointCommands(program);
  registerServerCommands(program);
  registerUserCommands(program);
  registerMarketplaceCommands(program);
  registerEarningsCommand(program);
  registerCompletionCommand(program);
  return program;
}
