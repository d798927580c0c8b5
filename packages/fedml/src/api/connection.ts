/** Which server and key a call uses: explicit > env > config file > the embedded default. */
import { FedmlError, ResultCode } from "@fedml/core";
import { type ConnectionOptions, fedmlHome, resolveClientConfig } from "../config.js";
import { ensureEmbedded } from "../embedded/index.js";
import type { Endpoint } from "../http.js";

/** Every SDK options object accepts these. */
export interface ApiOptions extends ConnectionOptions {
  /** Your API key (if not configured already). */
  apiKey?: string | null;
  /** The FedML server's URL (if not configured already); none means the embedded default. */
  serverUrl?: string | null;
}

export async function resolveEndpoint(options: ApiOptions = {}): Promise<Endpoint> {
  const home = fedmlHome();
  const { serverUrl, apiKey } = resolveClientConfig(options, home);
  if (serverUrl === null) {
    const embedded = await ensureEmbedded(home);
    return { serverUrl: embedded.url, apiKey: apiKey ?? embedded.adminKey };
  }
  if (apiKey === null) {
    throw new FedmlError(
      ResultCode.ERROR,
      `no API key for ${serverUrl}: run fedml login API_KEY --server ${serverUrl}, or set FEDML_API_KEY`,
    );
  }
  return { serverUrl, apiKey };
}
