#!/usr/bin/env node
/** The `fedml` command. */
import { FedmlError, ResultCode } from "@fedml/core";
import { type Command, CommanderError } from "commander";
import { onEmbeddedStart } from "../embedded/index.js";
import { FAILURE_EXIT, reportFailure } from "./action.js";
import { rewriteLegacyFlags } from "./legacy-flags.js";
import { announceEmbeddedStart } from "./notices.js";
import { buildProgram } from "./program.js";

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
