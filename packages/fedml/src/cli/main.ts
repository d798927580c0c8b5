#!/usr/bin/env node
/** The `fedml` command. */
import { createRequire } from "node:module";
import { FedmlError, ResultCode } from "@fedml/core";
import { Command, CommanderError } from "commander";
import { onEmbeddedStart } from "../embedded/index.js";
import { FAILURE_EXIT, reportFailure } from "./action.js";
import { registerClusterCommands } from "./commands/cluster.js";
import { registerCompletionCommand } from "./commands/completion.js";
import { registerDeviceCommands } from "./commands/device.js";
import { registerEndpointCommands } from "./commands/endpoint.js";
import { registerLaunchCommand } from "./commands/launch.js";
import { registerLoginCommands } from "./commands/login.js";
import { registerMarketplaceCommands, registerOffersCommand } from "./commands/marketplace.js";
import { registerRunCommands } from "./commands/run.js";
import { registerServerCommands } from "./commands/server.js";
import { registerUserCommands } from "./commands/user.js";
import { rewriteLegacyFlags } from "./legacy-flags.js";
import { announceEmbeddedStart } from "./notices.js";

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

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
  registerCompletionCommand(program);
  return program;
}

/**
 * Usage errors (unknown option, missing argument) come back as a CommanderError instead of an
 * exit, so that under --json they too become an error object on stdout.
 */
function throwOnUsageError(cmd: Command, json: boolean): void {
  cmd.exitOverride();
  if (json) cmd.configureOutput({ writeErr: () => {} });
  for (const sub of cmd.commands) throwOnUsageError(sub, json);
}

const program = buildProgram();
const args = rewriteLegacyFlags(process.argv.slice(2));
onEmbeddedStart(announceEmbeddedStart);
throwOnUsageError(program, args.includes("--json"));
try {
  await program.parseAsync(args, { from: "user" });
} catch (err) {
  if (!(err instanceof CommanderError)) throw err;
  // --help and --version end in a CommanderError with exit code 0.
  if (err.exitCode !== 0) {
    if (args.includes("--json")) {
      reportFailure(new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, err.message.replace(/^error: /, "")), true);
    }
    process.exitCode = FAILURE_EXIT;
  } else process.exitCode = 0;
}
