/** The `fedml` package: the SDK (`api`), plus the config and embedded-default helpers the CLI uses. */
export { api } from "./api/index.js";
export type * from "./api/index.js";
export { type ClientConfig, fedmlHome, readConfig, resolveClientConfig, writeConfig } from "./config.js";
export {
  ensureEmbedded,
  ensureLocalAgent,
  ensureLocalServer,
  type LocalServerStatus,
  localServerStatus,
  type StopLocalResult,
  stopLocal,
} from "./embedded/index.js";
export type {
  FedMLRunModel,
  FedMLRunModelList,
  LaunchResult,
  RunLogResult,
  RunStatusResult,
} from "@fedml/core";
