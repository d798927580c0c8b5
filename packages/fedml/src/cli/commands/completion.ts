/** `fedml completion bash|zsh|fish`: prints a completion script for the shell. */
import type { Command } from "commander";
import { FedmlError, ResultCode } from "@fedml/core";
import { action } from "../action.js";
import { commandTree } from "../command-tree.js";
import { SHELLS, type Shell, completionScript } from "../completion-scripts.js";

export function registerCompletionCommand(program: Command): void {
  program
    .command("completion")
    .description(
      "print a shell completion script: bash: source <(fedml completion bash); zsh: fedml completion zsh > " +
        "a folder on $fpath as _fedml; fish: fedml completion fish > ~/.config/fish/completions/fedml.fish",
    )
    .argument("<SHELL>", SHELLS.join(", "))
    .action(
      action(async (shell: string) => {
        if (!SHELLS.includes(shell as Shell)) {
          throw new FedmlError(
            ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
            `SHELL must be one of ${SHELLS.join(", ")}, got ${shell}`,
          );
        }
        process.stdout.write(completionScript(commandTree(program), shell as Shell));
      }),
    );
}
