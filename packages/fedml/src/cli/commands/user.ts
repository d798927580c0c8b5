/** `fedml user create | list | rotate | revoke | disable` (admin only). */
import type { Command } from "commander";
import type { UserModel } from "@fedml/core";
import { api } from "../../api/index.js";
import { action, parseNumber } from "../action.js";
import { registerUserCreditCommand } from "./marketplace.js";
import { formatTable, formatTime, formatUsd, printJson, printLine, printNote } from "../output.js";

export function registerUserCommands(program: Command): void {
  const user = program.command("user").description("manage users (admin only)");
  registerUserCreditCommand(user);

  user
    .command("create")
    .description("create a user and print their API key (shown this once)")
    .argument("<NAME>", "the user's name")
    .option("--admin", "the user may manage users")
    .option(
      "--expires-days <days>",
      "the key stops working after this many days (fractions allowed)",
      parseNumber("--expires-days"),
    )
    .option("--json", "print the SDK's object: {user, apiKey}")
    .action(
      action(async (name: string, flags: { admin?: boolean; expiresDays?: number; json?: boolean }) => {
        const created = await api.userCreate(name, { admin: flags.admin, expiresInDays: flags.expiresDays });
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
            { header: "DISABLED", value: (u: UserModel) => (u.disabled ? "yes" : "no") },
            { header: "KEYS", value: (u: UserModel) => String(u.activeKeys ?? "-"), alignRight: true },
            {
              header: "BALANCE",
              value: (u: UserModel) => (u.balance === undefined ? "-" : formatUsd(u.balance)),
              alignRight: true,
            },
            { header: "CREATED", value: (u: UserModel) => formatTime(u.createdTime) },
          ]),
        );
      }),
    );

  user
    .command("rotate")
    .description("replace every API key of the user by one new key, printed this once; the old keys stop working")
    .argument("<NAME>", "the user's name")
    .option("--expires-days <days>", "the new key stops working after this many days", parseNumber("--expires-days"))
    .option("--json", "print the SDK's object: {user, apiKey}")
    .action(
      action(async (name: string, flags: { expiresDays?: number; json?: boolean }) => {
        const rotated = await api.userRotate(name, { expiresInDays: flags.expiresDays });
        if (flags.json) return printJson(rotated);
        printLine(rotated.apiKey);
        printNote(`user ${name}: new API key above (shown only this once); every older key is revoked`);
      }),
    );

  user
    .command("revoke")
    .description("revoke every API key of the user at once (fedml user rotate NAME issues a new one)")
    .argument("<NAME>", "the user's name")
    .option("--json", "print the SDK's object: {revoked}")
    .action(
      action(async (name: string, flags: { json?: boolean }) => {
        const result = await api.userRevoke(name);
        if (flags.json) return printJson(result);
        printLine(`user ${name}: ${result.revoked} API key${result.revoked === 1 ? "" : "s"} revoked`);
      }),
    );

  user
    .command("disable")
    .description("refuse every key of the user until enabled again (--enable); their runs and devices stay")
    .argument("<NAME>", "the user's name")
    .option("--enable", "enable the user again")
    .option("--json", "print the SDK's UserModel")
    .action(
      action(async (name: string, flags: { enable?: boolean; json?: boolean }) => {
        const result = await api.userDisable(name, { disabled: !flags.enable });
        if (flags.json) return printJson(result);
        printLine(`user ${name} ${result.disabled ? "disabled" : "enabled"}`);
      }),
    );
}
