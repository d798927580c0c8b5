/**
 * Where the client keeps its state and which server/key it talks to.
 * Precedence for each of serverUrl and apiKey: explicit option > environment > config file.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { FedmlError, ResultCode } from "@fedml/core";

export interface ClientConfig {
  /** null means the embedded default server under FEDML_HOME; several replicas' URLs are comma-separated. */
  serverUrl: string | null;
  apiKey: string | null;
}

export interface ConnectionOptions {
  serverUrl?: string | null;
  apiKey?: string | null;
}

const EMPTY_CONFIG: ClientConfig = { serverUrl: null, apiKey: null };

/** An empty string counts as unset, so `FEDML_SERVER_URL= fedml ...` means "not configured". */
function nonEmpty(value: string | null | undefined): string | null {
  return value === undefined || value === null || value.trim() === "" ? null : value.trim();
}

/** Read at call time (not import time) so that a program may set FEDML_HOME after importing us. */
export function fedmlHome(env: NodeJS.ProcessEnv = process.env): string {
  return nonEmpty(env.FEDML_HOME) ?? join(homedir(), ".fedml");
}

export function configPath(home: string): string {
  return join(home, "config.json");
}

export function readConfig(home: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(configPath(home), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { ...EMPTY_CONFIG };
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FedmlError(ResultCode.ERROR, `config file ${configPath(home)} is not valid JSON: fix or delete it`);
  }
  const record = (parsed ?? {}) as Record<string, unknown>;
  return {
    serverUrl: typeof record.serverUrl === "string" ? nonEmpty(record.serverUrl) : null,
    apiKey: typeof record.apiKey === "string" ? nonEmpty(record.apiKey) : null,
  };
}

/** Written via a temp file and rename so that a crash never leaves half a file; 0600 because it holds a key. */
export function writeConfig(home: string, config: ClientConfig): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const target = configPath(home);
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, target);
}

/** The server and key to use before the embedded default is considered. */
export function resolveClientConfig(
  options: ConnectionOptions,
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): ClientConfig {
  const file = readConfig(home);
  return {
    serverUrl: normalizeServerUrls(nonEmpty(options.serverUrl) ?? nonEmpty(env.FEDML_SERVER_URL) ?? file.serverUrl),
    apiKey: nonEmpty(options.apiKey) ?? nonEmpty(env.FEDML_API_KEY) ?? file.apiKey,
  };
}

/** `http://a/, http://b` -> `http://a,http://b`: one spelling per list of replicas. */
function normalizeServerUrls(url: string | null): string | null {
  if (url === null) return null;
  return url
    .split(/[\s,]+/)
    .filter((u) => u !== "")
    .map((u) => u.replace(/\/+$/, ""))
    .join(",");
}
