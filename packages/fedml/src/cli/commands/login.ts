/** `fedml login API_KEY [--server URL] [-c]` and `fedml logout`. */
import type { Command } from "commander";
import { fedmlLogout, loginOrThrow } from "../../api/login.js";
import { fedmlHome, readConfig } from "../../config.js";
import { action } from "../action.js";
import { printJson, printLine } from "../output.js";
import { addBindOptions, apiKeyOf, type BindFlags, bindDevice, printBindResult } from "./device.js";

export function registerLoginCommands(program: Command): void {
  addBindOptions(
    program
      .command("login")
      .description("save the server and API key that later commands use (with -c: bind this machine as a device)")
      .argument("[API_KEY]", "your API key; - reads it from stdin (default: --api-key-file, else FEDML_API_KEY)")
      .option("--server <url>", "the server's URL (default: the configured one, else the embedded default)")
      .option("-c, --compute", "bind this machine as a compute device instead (alias of fedml device bind)"),
  )
    .option("--json", "print the result as JSON: the SDK's result code (0), or with -c {deviceId, serverUrl, pid}")
    .action(
      action(async (argument: string | undefined, flags: BindFlags & { compute?: boolean }) => {
        const apiKey = apiKeyOf(argument, flags);
        if (flags.compute) return printBindResult(await bindDevice(apiKey, flags), flags.json);
        // A failure under --json is printed as {resultCode, message} like every command's.
        await loginOrThrow(apiKey, { serverUrl: flags.server });
        if (flags.json) return printJson(0);
        const { serverUrl } = readConfig(fedmlHome());
        printLine(`logged in to ${serverUrl ?? "the embedded default server"}`);
      }),
    );

  program
    .command("logout")
    .description("forget the saved server and API key")
    .option("--json", "print the result as JSON: {loggedOut}")
    .action(
      action(async (flags: { json?: boolean }) => {
        const loggedOut = fedmlLogout();
        if (flags.json) return printJson({ loggedOut });
        printLine(loggedOut ? "logged out" : "was not logged in");
      }),
    );
}
