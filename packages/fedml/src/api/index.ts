/** The SDK: `import { api } from "fedml"`, camelCase of `fedml.api.*`. */
import {
  clusterAction,
  clusterAutostop,
  clusterExists,
  clusterKill,
  clusterKillall,
  clusterList,
  clusterStart,
  clusterStartall,
  clusterStatus,
  clusterStop,
  clusterStopall,
} from "./clusters.js";
import { deviceList } from "./devices.js";
import { endpointDelete, endpointList, endpointStatus } from "./endpoints.js";
import { launchJob, launchJobOnCluster } from "./launch.js";
import { fedmlLogin, fedmlLogout } from "./login.js";
import { followRunLogs, runLogs } from "./logs.js";
import { costReport, creditBalance, launchDryRun, userCredit } from "./marketplace.js";
import { runList, runStatus, runStop } from "./runs.js";
import { userCreate, userList } from "./users.js";

export const api = {
  fedmlLogin,
  fedmlLogout,
  launchJob,
  launchJobOnCluster,
  runList,
  runStatus,
  runStop,
  runLogs,
  followRunLogs,
  deviceList,
  clusterList,
  clusterExists,
  clusterStatus,
  clusterStart,
  clusterStartall,
  clusterStop,
  clusterStopall,
  clusterKill,
  clusterKillall,
  clusterAutostop,
  clusterAction,
  endpointList,
  endpointStatus,
  endpointDelete,
  userCreate,
  userList,
  launchDryRun,
  userCredit,
  creditBalance,
  costReport,
} as const;

export type { ClusterActionResponse, ClusterStatusResult } from "./clusters.js";
export type { ApiOptions } from "./connection.js";
export type { LaunchOptions } from "./launch.js";
export type { LoginOptions } from "./login.js";
export type { DryRunOptions } from "./marketplace.js";
export type { FollowOptions, RunLogsOptions } from "./logs.js";
export type { DeleteEndpointResponse, EndpointListResponse, EndpointModel } from "./endpoints.js";
export type { PlatformOptions, RunListOptions } from "./runs.js";
export type { UserCreateOptions } from "./users.js";
