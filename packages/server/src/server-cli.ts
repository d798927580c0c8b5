/**
 * `fedml-server`'s settings: flags, then environment, then a JSON config file, then defaults.
 * Pure: reads nothing but what it is given, so that every source and its precedence is testable.
 */
import { parseArgs } from "node:util";
import { ServerCliError, type SettingSource } from "./cli-setting.js";
import { MiB, type ServerOptions, defaultHome } from "./config.js";
import { DEFAULT_HEAP_GROWTH_PERCENT } from "./v8-settings.js";
import { S3_SECRET_ENV, S3_SETTINGS, s3SettingsFrom } from "./s3-cli.js";

/** The port an operator's server listens on unless told otherwise (the embedded default passes `auto`). */
export const DEFAULT_PORT = 8732;

type Kind = "string" | "integer" | "megabytes";

interface Setting extends SettingSource {
  /** The ServerOptions field it sets (megabytes are set in bytes). */
  option: keyof ServerOptions;
  kind: Kind;
}

function setting(
  option: keyof ServerOptions,
  flag: string,
  env: string,
  kind: Kind,
  help: string,
  key: string = option,
): Setting {
  return { key, option, flag, env, kind, help };
}

/** Every setting, once: the flag, the environment variable and the config key all come from here. */
export const SETTINGS: readonly Setting[] = [
  setting("home", "home", "FEDML_HOME", "string", "state folder: SQLite database, workspaces, admin-key (default ~/.fedml)"),
  setting("host", "host", "FEDML_SERVER_HOST", "string", "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)"),
  setting(
    "port",
    "port",
    "FEDML_SERVER_PORT",
    "integer",
    `port (default ${DEFAULT_PORT}; 0 = any free port; auto = the last one used, else any)`,
  ),
  setting(
    "databaseUrl",
    "database-url",
    "FEDML_DATABASE_URL",
    "string",
    "postgres://user:password@host:5432/db (default: SQLite under --home)",
  ),
  setting(
    "publicUrl",
    "public-url",
    "FEDML_PUBLIC_URL",
    "string",
    "the URL users and agents reach this server at (default: the listening URL)",
  ),
  setting(
    "peerUrl",
    "peer-url",
    "FEDML_PEER_URL",
    "string",
    "the URL other replicas reach this one at (default: the listening URL; on 0.0.0.0, the first external address)",
  ),
  setting("logLevel", "log-level", "FEDML_LOG_LEVEL", "string", "fatal, error, warn, info (default), debug, trace"),
  setting(
    "offlineAfterMs",
    "offline-after-ms",
    "FEDML_OFFLINE_AFTER_MS",
    "integer",
    "a device silent this long shows OFFLINE (default 30000)",
  ),
  setting(
    "leaseMs",
    "lease-ms",
    "FEDML_LEASE_MS",
    "integer",
    "an agent's hold on its runs without renewal (default 3 x offline-after-ms)",
  ),
  setting(
    "stopAckDeadlineMs",
    "stop-ack-deadline-ms",
    "FEDML_STOP_ACK_DEADLINE_MS",
    "integer",
    "a stop the agent does not confirm ends this long after (default stop-grace-ms + 60000)",
  ),
  setting(
    "stopGraceMs",
    "stop-grace-ms",
    "FEDML_STOP_GRACE_MS",
    "integer",
    "SIGTERM to SIGKILL when a run is stopped (default 10000)",
  ),
  setting("pollMaxWaitMs", "poll-max-wait-ms", "FEDML_POLL_MAX_WAIT_MS", "integer", "longest agent long-poll (default 20000)"),
  setting(
    "assignmentCoalesceMs",
    "assignment-coalesce-ms",
    "FEDML_ASSIGNMENT_COALESCE_MS",
    "integer",
    "a busy device's woken poll waits this long for more placements (default 5; 0: never)",
  ),
  setting(
    "maxWorkspaceBytes",
    "max-workspace-bytes",
    "FEDML_MAX_WORKSPACE_BYTES",
    "integer",
    "largest workspace upload (default 524288000)",
  ),
  setting(
    "workspaceStoreBytes",
    "workspace-store-mb",
    "FEDML_WORKSPACE_STORE_MB",
    "megabytes",
    "every workspace together, least recently used evicted first (default 20480)",
    "workspaceStoreMb",
  ),
  setting(
    "userWorkspaceBytes",
    "user-workspace-mb",
    "FEDML_USER_WORKSPACE_MB",
    "megabytes",
    "one user's workspaces together (default 2048)",
    "userWorkspaceMb",
  ),
  setting(
    "runLogBytes",
    "run-log-mb",
    "FEDML_RUN_LOG_MB",
    "megabytes",
    "log text one run part may store (default 100)",
    "runLogMb",
  ),
  setting(
    "userLogBytes",
    "user-log-mb",
    "FEDML_USER_LOG_MB",
    "megabytes",
    "log text one user's runs may store together (default 2048)",
    "userLogMb",
  ),
  setting(
    "logRetentionDays",
    "log-retention-days",
    "FEDML_LOG_RETENTION_DAYS",
    "integer",
    "logs of runs ended longer ago are replaced by a notice; 0 keeps them (default 30)",
  ),
  setting(
    "heapGrowthPercent",
    "heap-growth-percent",
    "FEDML_HEAP_GROWTH_PERCENT",
    "integer",
    `after each full garbage collection the JavaScript heap may grow this much before the next (default ${DEFAULT_HEAP_GROWTH_PERCENT}; 0: V8's own policy)`,
  ),
  setting(
    "sqliteAccess",
    "sqlite-access",
    "FEDML_SQLITE_ACCESS",
    "string",
    "exclusive (default): the SQLite file is the server's alone, nothing of it memory-mapped; shared: other processes may read it",
  ),
];

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const SQLITE_ACCESS = ["exclusive", "shared"];

export const CONFIG_ENV = "FEDML_SERVER_CONFIG";

export type ServerCommand =
  | { kind: "help"; text: string }
  | { kind: "version" }
  | { kind: "run"; options: ServerOptions; portMode: "fixed" | "auto"; configFile: string | null };

export { ServerCliError };

/** Parses argv (without node and script), the environment and, when named, the config file's text. */
export function parseServerCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  readConfigFile: (path: string) => string,
  readSecretFile: (path: string) => string = readConfigFile,
): ServerCommand {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        ...Object.fromEntries([...SETTINGS, ...S3_SETTINGS].map((s) => [s.flag, { type: "string" as const }])),
        config: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new ServerCliError(`${(err as Error).message}; see fedml-server --help`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { kind: "help", text: helpText() };
  if (values.version) return { kind: "version" };

  const configFile = (values.config as string | undefined) ?? nonEmpty(env[CONFIG_ENV]) ?? null;
  const fromFile = configFile ? parseConfigFile(configFile, readConfigFile(configFile)) : {};
  const options: Record<string, unknown> = {};
  let portMode: "fixed" | "auto" = "fixed";
  const lookUp = (setting: SettingSource) => {
    const flag = values[setting.flag] as string | undefined;
    const raw = flag ?? nonEmpty(env[setting.env]) ?? fromFile[setting.key];
    const source =
      flag !== undefined
        ? `--${setting.flag}`
        : nonEmpty(env[setting.env]) !== undefined
          ? setting.env
          : `${setting.key} in ${configFile}`;
    return { raw, source };
  };
  for (const setting of SETTINGS) {
    const { raw, source } = lookUp(setting);
    if (raw === undefined) continue;
    if (setting.option === "port" && raw === "auto") {
      portMode = "auto";
      continue;
    }
    if (setting.option === "logLevel" && !LOG_LEVELS.includes(String(raw))) {
      throw new ServerCliError(`${source} must be one of ${LOG_LEVELS.join(", ")}, not ${JSON.stringify(raw)}`);
    }
    if (setting.option === "sqliteAccess" && !SQLITE_ACCESS.includes(String(raw))) {
      throw new ServerCliError(`${source} must be one of ${SQLITE_ACCESS.join(", ")}, not ${JSON.stringify(raw)}`);
    }
    if (setting.kind === "string") options[setting.option] = String(raw);
    else options[setting.option] = wholeNumber(source, raw) * (setting.kind === "megabytes" ? MiB : 1);
  }
  const s3 = s3SettingsFrom(lookUp, nonEmpty(env[S3_SECRET_ENV]), readSecretFile);
  if (s3) options.s3 = s3;
  if (portMode === "fixed" && options.port === undefined) options.port = DEFAULT_PORT;
  options.home ??= defaultHome(env);
  return { kind: "run", options: options as unknown as ServerOptions, portMode, configFile };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function wholeNumber(source: string, raw: unknown): number {
  const n = typeof raw === "number" ? raw : Number(raw);
  if (!Number.isInteger(n) || n < 0 || (typeof raw === "string" && raw.trim() === "")) {
    throw new ServerCliError(`${source} must be a whole number, not ${JSON.stringify(raw)}`);
  }
  return n;
}

/** The config file: one JSON object whose keys are the settings' (camelCase) names. */
export function parseConfigFile(path: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ServerCliError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ServerCliError(`config file ${path} must hold one JSON object`);
  }
  const known = new Set<string>([...SETTINGS, ...S3_SETTINGS].map((s) => s.key));
  const unknown = Object.keys(parsed).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new ServerCliError(`config file ${path}: unknown key ${unknown.join(", ")} (known: ${[...known].join(", ")})`);
  }
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== "string" && typeof value !== "number") {
      throw new ServerCliError(`config file ${path}: ${key} must be a string or a number`);
    }
  }
  return parsed as Record<string, unknown>;
}

/** A flag's name padded to the help's second column, or on a line of its own when longer. */
function column(text: string): string {
  return text.length < 30 ? text.padEnd(30) : `${text}\n${" ".repeat(30)}`;
}

export function helpText(): string {
  const rows = [...SETTINGS, ...S3_SETTINGS].map(
    (s) =>
      column(`  --${s.flag} ${"kind" in s && s.kind !== "string" ? "N" : "VALUE"}`) +
      `${s.help}\n${" ".repeat(30)}env ${s.env}, config key ${s.key}`,
  );
  return `Usage: fedml-server [options]

The FedML Launch control plane: HTTP API, store and scheduler. Settings come from flags, then
the environment, then a JSON config file (--config FILE or ${CONFIG_ENV}), then the defaults.

Options:
${rows.join("\n")}
${column(`  env ${S3_SECRET_ENV}`)}the S3 secret access key (never a flag: argv is public)
  --config FILE               a JSON object of settings by config key, e.g. {"port": 8732, "host": "0.0.0.0"}
  -h, --help                  print this help
  -v, --version               print the version

Endpoints: /api/v1/... (the API), /healthz (database check), /metrics (Prometheus).
`;
}
