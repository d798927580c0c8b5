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
import { followRunLogs, runLogs, runNodeLogs } from "./logs.js";
import { costReport, creditBalance, earningsReport, launchDryRun, offerList, spendByDay, userCredit } from "./marketplace.js";
import { runList, runStatus, runStop } from "./runs.js";
import { userCreate, userDisable, userList, userRevoke, userRotate } from "./users.js";

export const api = {
  fedmlLogin,
  fedmlLogout,
  launchJob,
  launchJobOnCluster,
  runList,
  runStatus,
  runStop,
  runLogs,
  runNodeLogs,
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
  userRotate,
  userRevoke,
  userDisable,
  launchDryRun,
  userCredit,
  creditBalance,
  costReport,
  spendByDay,
  earningsReport,
  offerList,
} as const;

export type { ClusterActionResponse, ClusterStatusResult } from "./clusters.js";
export type { ApiOptions } from "./connection.js";
export type { LaunchOptions } from "./launch.js";
export type { LoginOptions } from "./login.js";
export type { DryRunOptions, OfferListOptions } from "./marketplace.js";
export type { FollowOptions, LogNode, NodeLogLine, NodeLogsOptions, NodeLogsResult, RunLogsOptions } from "./logs.js";
export type { DeviceListOptions } from "./devices.js";
export type { DeleteEndpointResponse, EndpointListResponse, EndpointModel } from "./endpoints.js";
export type { PlatformOptions, RunListOptions } from "./runs.js";
export type { UserCreateOptions, UserDisableOptions, UserKeyOptions } from "./users.js";
