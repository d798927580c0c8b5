/** `fedml user create | list` (admin only). */
import type { Command } from "commander";
import type { UserModel } from "@fedml/core";
import { api } from "../../api/index.js";
import { action } from "../action.js";
import { registerUserCreditCommand } from "./marketplace.js";
import { formatTable, formatTime, printJson, printLine, printNote } from "../output.js";

export function registerUserCommands(program: Command): void {
  const user = program.command("user").description("manage users (admin only)");
  registerUserCreditCommand(user);

  user
    .command("create")
    .description("create a user and print their API key (shown this once)")
    .argument("<NAME>", "the user's name")
    .option("--admin", "the user may manage users")
    .option("--json", "print the SDK's object: {user, apiKey}")
    .action(
      action(async (name: string, flags: { admin?: boolean; json?: boolean }) => {
        const created = await api.userCreate(name, { admin: flags.admin });
        if (flags.json) return printJson(created);
        printLine(created.apiKey);
        printNote(`user ${created.user.name} (id ${created.user.userId}) created; the key above is shown only this once`);
      }),
    );

  user
    .command("list")
    .description("every user")
    .option("--json", "print the SDK's object: {userList}")
    .action(
      action(async (flags: { json?: boolean }) => {
        const result = await api.userList();
        if (flags.json) return printJson(result);
        printLine(
          formatTable(result.userList, [
            { header: "ID", value: (u: UserModel) => String(u.userId) },
            { header: "NAME", value: (u: UserModel) => u.name },
            { header: "ADMIN", value: (u: UserModel) => (u.isAdmin ? "yes" : "no") },
            { header: "CREATED", value: (u: UserModel) => formatTime(u.createdTime) },
          ]),
        );
      }),
    );
}
