/**
 * Where each route of the HTTP contract (protocol.ts) lives. Plain strings and functions, no
 * schemas: the agent builds its requests with these without loading TypeBox.
 */

export type ClusterAction = "start" | "stop" | "kill";

export const API_PREFIX = "/api/v1";

export const Paths = {
  health: "/api/v1/health",
  openapi: "/api/v1/openapi.json",
  me: "/api/v1/me",
  users: "/api/v1/users",
  userAction: (name: string, action: "rotate" | "revoke" | "disable") => `/api/v1/users/${encodeURIComponent(name)}/${action}`,
  workspace: (sha256: string) => `/api/v1/workspaces/${sha256}`,
  runs: "/api/v1/runs",
  run: (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}`,
  runStop: (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}/stop`,
  runLogs: (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}/logs`,
  runLogLines: (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}/log-lines`,
  /** As runLogLines, the lines as text blocks (LogTextResponse): what a fast follower reads. */
  runLogText: (runId: string) => `/api/v1/runs/${encodeURIComponent(runId)}/log-lines/text`,
  devices: "/api/v1/devices",
  clusters: "/api/v1/clusters",
  cluster: (name: string) => `/api/v1/clusters/${encodeURIComponent(name)}`,
  clusterAction: (action: ClusterAction) => `/api/v1/clusters/${action}`,
  clusterAutostop: (name: string) => `/api/v1/clusters/${encodeURIComponent(name)}/autostop`,
  device: (deviceId: string) => `/api/v1/devices/${encodeURIComponent(deviceId)}`,
  agentRegister: "/api/v1/agent/register",
  agentHello: "/api/v1/agent/hello",
  agentUnregister: "/api/v1/agent/unregister",
  agentAssignments: "/api/v1/agent/assignments",
  agentRunStatus: (runId: string) => `/api/v1/agent/runs/${encodeURIComponent(runId)}/status`,
  /** Many runs' status reports in one request (the agent's batch of RunStatusReport). */
  agentReports: "/api/v1/agent/reports",
  agentRunLogs: (runId: string) => `/api/v1/agent/runs/${encodeURIComponent(runId)}/logs`,
  /** The same as agentRunLogs, the lines as one text (LogTextBatch): no object per line on either side. */
  agentRunLogText: (runId: string) => `/api/v1/agent/runs/${encodeURIComponent(runId)}/logs/text`,
  agentWorkspace: (sha256: string) => `/api/v1/agent/workspaces/${sha256}`,
  agentRunServing: (runId: string) => `/api/v1/agent/runs/${encodeURIComponent(runId)}/serving`,
  /** The agent's inference tunnel (an HTTP upgrade, see tunnel.ts). */
  agentTunnel: "/api/v1/agent/tunnel",
  endpoints: "/api/v1/endpoints",
  endpoint: (endpointId: string) => `/api/v1/endpoints/${encodeURIComponent(endpointId)}`,
  /** The inference proxy (outside /api/v1): `/inference/<endpointId>/<path>` reaches the job's `/<path>`. */
  inference: (endpointId: string, path = "") => `/inference/${encodeURIComponent(endpointId)}/${path.replace(/^\/+/, "")}`,
} as const;
