import { FedmlError, Paths, ResultCode } from "@fedml/core";
import { fedmlHome, readConfig, resolveClientConfig, writeConfig } from "../config.js";
import { ensureEmbedded } from "../embedded/index.js";
import { request } from "../http.js";

export interface LoginOptions {
  /** The FedML server to log in to; none (and none configured) means the embedded default. */
  serverUrl?: string | null;
}

/**
 * Log in to the FedML server: checks the key (`GET /me`) and saves the server URL and key to
 * `<FEDML_HOME>/config.json` (mode 0600) for later calls.
 *
 * ```py
 * fedml.api.fedml_login(api_key=$api_key)
 * ```
 *
 * @param apiKey Your API key.
 * @returns 0 on success, else the error's result code (never throws for a bad key).
 */
export async function fedmlLogin(apiKey: string, options: LoginOptions = {}): Promise<number> {
  try {
    await loginOrThrow(apiKey, options);
    return ResultCode.LAUNCH_JOB_STATUS_REQUEST_SUCCESS;
  } catch (err) {
    if (err instanceof FedmlError) return err.resultCode;
    throw err;
  }
}

/** As fedmlLogin, but a failure throws the FedmlError (the CLI wants its message). */
export async function loginOrThrow(apiKey: string, options: LoginOptions = {}): Promise<void> {
  if (!apiKey || apiKey.trim() === "") {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "the API key is empty");
  }
  const home = fedmlHome();
  // The key given here must be the one checked, whatever the environment says.
  const { serverUrl } = resolveClientConfig({ serverUrl: options.serverUrl, apiKey }, home);
  const url = serverUrl ?? (await ensureEmbedded(home)).url;
  await request("GET", Paths.me, { serverUrl: url, apiKey: apiKey.trim() });
  writeConfig(home, { serverUrl, apiKey: apiKey.trim() });
}

/** Forget the saved server and key (the embedded default is used again). Answers whether a key was saved. */
export function fedmlLogout(): boolean {
  const home = fedmlHome();
  const had = readConfig(home).apiKey !== null;
  writeConfig(home, { serverUrl: null, apiKey: null });
  return had;
}
