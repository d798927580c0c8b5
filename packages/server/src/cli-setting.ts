/** A setting or flag of `fedml-server` is wrong: the server says so on one line and exits 2. */
export class ServerCliError extends Error {}

/** Where a setting is read from: a flag, an environment variable, a config file key. */
export interface SettingSource {
  /** The config file's key. */
  key: string;
  flag: string;
  env: string;
  help: string;
}
