import type { Generated } from "kysely";

/** Table types. Booleans are 0/1 integers and times epoch-ms integers on both dialects. */
export interface UsersTable {
  id: Generated<number>;
  name: string;
  is_admin: number;
  created_at: number;
  /** Micro-dollars (migration 0105); admins grant, runs on others' paid devices spend. */
  credit_balance_micros: Generated<number>;
  /** 1 once any credit was granted: our stand-in for "a credit card is bound". */
  card_bound: Generated<number>;
  /** 1: every key of the user is refused. */
  disabled: Generated<number>;
}

export interface ApiKeysTable {
  id: Generated<number>;
  user_id: number;
  key_hash: string;
  created_at: number;
  /** Epoch ms after which the key is refused; null = never. */
  expires_at: number | null;
}

/** A dashboard sign-in: the browser holds the token, the row names the API key it stands for. */
export interface DashboardSessionsTable {
  token_hash: string;
  /** The key signed in with: the session ends with it (revoke, rotate, expiry). */
  key_hash: string;
  created_at: number;
  expires_at: number;
}

export interface ProjectsTable {
  id: Generated<number>;
  owner_id: number;
  name: string;
  created_at: number;
}

export interface DevicesTable {
  id: Generated<number>;
  owner_id: number;
  name: string;
  token_hash: string | null;
  hostname: string;
  os_type: string;
  os_version: string;
  cpu_count: number;
  memory_bytes: number;
  gpus_json: string;
  /** Why the agent found no GPU; null when fine. */
  gpu_error: string | null;
  address: string;
  provider: string;
  region: string;
  /** Micro-dollars per GPU-hour. */
  price_per_gpu_hour_micros: Generated<number>;
  shared: number;
  simulated: number;
  max_jobs: number;
  agent_version: string;
  /** "docker" or "podman" when the device runs container jobs; null when it cannot. */
  container_runtime: string | null;
  /** A Slurm device's nodes (ClusterNode[] as JSON); null for any other device. */
  cluster_nodes_json: string | null;
  status: string;
  last_seen_at: number | null;
  /** Bumped whenever the device's desired state changes; agents long-poll on it. */
  version: number;
  removed: number;
  created_at: number;
}

export interface RunsTable {
  id: Generated<number>;
  owner_id: number;
  project_id: number;
  name: string;
  status: string;
  job_type: string;
  platform: string;
  yaml_text: string;
  spec_json: string;
  workspace_sha256: string | null;
  resource_id: string | null;
  reason: string | null;
  exit_code: number | null;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
  stop_requested: number;
  /** The cluster the run was launched on (migration 0002); null for a plain launch. */
  cluster_id: number | null;
  /** Higher first in the queue (`computing.priority`). */
  priority: Generated<number>;
  /** Times the run may still start again elsewhere when a device is lost (`computing.retry.limit`). */
  retries_left: Generated<number>;
  /** The run this one retries. */
  retry_of: Generated<number | null>;
  /** When the run got its devices: the fair queue serves the least recently served user first. */
  placed_at: Generated<number | null>;
}

export interface RunDevicesTable {
  run_id: number;
  device_id: number;
  rank: number;
  node_index: number;
  status: string;
  gpu_indices_json: string;
  exit_code: number | null;
  reason: string | null;
  started_at: number | null;
  ended_at: number | null;
  log_count: number;
  /** What the run's owner pays, micro-dollars per GPU-hour (0 on their own devices). */
  price_per_gpu_hour_micros: Generated<number>;
  stop_requested: number;
  /** Bytes of the part's stored log lines (their text, UTF-8), for the log quota. */
  log_bytes: Generated<number>;
  /** 1 once a quota capped the part's log: a marker line is stored and later lines dropped. */
  log_capped: Generated<number>;
  /** When a stop was first asked for (wall ms): billing ends here at the latest. */
  stop_requested_at: Generated<number | null>;
  /** The part's runtime as its agent measured it on a monotonic clock; billing never exceeds it. */
  runtime_ms: Generated<number | null>;
}

/** A part's log lines first_seq..last_seq in one row (store/log-chunks.ts says how). */
export interface LogChunksTable {
  run_id: number;
  device_id: number;
  first_seq: number;
  last_seq: number;
  text: string;
  runs_json: string;
}

/** A named, reserved set of devices (migration 0002). */
export interface ClustersTable {
  id: Generated<number>;
  owner_id: number;
  name: string;
  /** active (devices reserved), stopped (devices let go, kept) or terminated (killed). */
  state: string;
  /** What the job that created it asked for (JobNeeds), to find devices again on start. */
  needs_json: string;
  /** Minutes with no live run before the cluster stops by itself; 0 = never. */
  idle_minutes: number;
  created_at: number;
  /** Idleness counts from here at the earliest: creation, the last start, the last autostop change. */
  idle_from: number;
  ended_at: number | null;
  /** Why it stopped or could not start, in words. */
  reason: string | null;
}

/** The devices a cluster holds (kept while stopped, so start can take the same ones). */
export interface ClusterDevicesTable {
  cluster_id: number;
  device_id: number;
}

/** Serving endpoints of serve / deploy runs (migration 0003). */
export interface EndpointsTable {
  id: Generated<number>;
  owner_id: number;
  run_id: number;
  name: string;
  status: string;
  model_name: string | null;
  model_version: string | null;
  /** Where the job serves, once its agent reported the port. */
  device_id: number | null;
  address: string | null;
  port: number | null;
  created_at: number;
  ready_at: number | null;
  ended_at: number | null;
  /** Replica bounds, the autoscaler's target, its settings and the probe (migration 0100_h-serving). */
  min_replicas: Generated<number>;
  max_replicas: Generated<number>;
  desired_replicas: Generated<number>;
  target_inflight: number | null;
  target_rps: number | null;
  scale_down_delay_ms: Generated<number>;
  probe_path: Generated<string>;
  probe_interval_ms: Generated<number>;
  /** Bumped by each launch that updates the endpoint in place; replicas of older ones are drained. */
  generation: Generated<number>;
  /** Last time the autoscaler saw the endpoint need its current replica count (scale-down delay). */
  busy_at: number | null;
}

/** One run serving an endpoint (migration 0100_h-serving). */
export interface EndpointReplicasTable {
  id: Generated<number>;
  endpoint_id: number;
  run_id: number;
  generation: number;
  device_id: number | null;
  /** The job's port on its device: shown, never dialed (requests go through the agent's tunnel). */
  port: number | null;
  /** 1 while the job answers its readiness probe. */
  ready: number;
  created_at: number;
  ready_at: number | null;
  /** Taken out of rotation to be stopped once idle (rolling update, scale-down). */
  retired_at: number | null;
  ended_at: number | null;
}

/** Credit movements (migration 0004): grants by admins, charges to run owners, earnings of device owners. */
export interface CreditLedgerTable {
  id: Generated<number>;
  user_id: number;
  /** Signed micro-dollars: + grant or earning, - charge or reservation. */
  amount_micros: number;
  /** grant | charge | earning */
  kind: string;
  run_id: number | null;
  device_id: number | null;
  note: string;
  created_at: number;
}

/** An active cluster's hold on another owner's paid device (migration 0104): billed whole while held. */
export interface ReservationsTable {
  id: Generated<number>;
  cluster_id: number;
  device_id: number;
  /** The cluster's owner. */
  payer_id: number;
  /** The device's owner. */
  payee_id: number;
  /** Micro-dollars per GPU-hour. */
  price_per_gpu_hour_micros: number;
  gpu_count: number;
  started_at: number;
  /** Null while held; set (and the hold charged) when the cluster lets the device go. */
  ended_at: number | null;
}

/** One upload of a workspace by one user: bytes arrive in chunks, perhaps over several requests. */
export interface WorkspaceUploadsTable {
  id: Generated<number>;
  sha256: string;
  user_id: number;
  /** Total bytes announced by the client; null while unknown (a PUT without content-length). */
  size: number | null;
  /** Bytes stored so far, contiguous from 0. */
  received: number;
  created_at: number;
  updated_at: number;
}

/** The bytes of an upload, in order; each chunk carries its own sha256 so a read checks it before sending. */
export interface WorkspaceChunksTable {
  upload_id: number;
  start_byte: number;
  length: number;
  sha256: string;
  data: Buffer;
}

/** A complete, verified workspace: its bytes are the chunks of `upload_id`. */
export interface WorkspaceBlobsTable {
  sha256: string;
  upload_id: number;
  size: number;
  /** 1 once a read found bytes that do not match: unusable until someone uploads the right bytes. */
  corrupt: Generated<number>;
  created_at: number;
  last_used_at: number;
}

/** An upload's bytes in an S3-compatible store: one object, a multipart upload until sealed. */
export interface WorkspaceObjectsTable {
  upload_id: number;
  object_key: string;
  multipart_id: string;
  /** 1 once the multipart upload is completed into the object. */
  sealed: Generated<number>;
  /** 1 once the upload is gone from the database: the object (or unfinished upload) is deleted next. */
  dropped: Generated<number>;
}

/** One part of a workspace object, with the sha256 a read checks it against. */
export interface WorkspaceObjectPartsTable {
  upload_id: number;
  part_number: number;
  start_byte: number;
  length: number;
  sha256: string;
  etag: string;
}

/** Who may use a blob: the users who uploaded its bytes. */
export interface WorkspaceBlobUsersTable {
  sha256: string;
  user_id: number;
  last_used_at: number;
}

/** Bytes of log text each user has stored, for the per-user log quota. */
export interface UserLogUsageTable {
  user_id: number;
  log_bytes: number;
}

/** The server process (its URL as its peers reach it) holding a device's inference tunnel. */
export interface TunnelHoldersTable {
  device_id: number;
  server_url: string;
  attached_at: number;
}

/** An S3 upload of the official client (fedml-wire/object-store.ts); complete = 1 once it is an object. */
export interface WireUploadsTable {
  upload_id: string;
  object_key: string;
  complete: number;
  bytes: number;
  started_at: number;
}

export interface WireChunksTable {
  upload_id: string;
  part_number: number;
  chunk: number;
  data: Buffer;
}

/** The latest registration of an application by the official client (fedml-wire/launch.ts). */
export interface WireRegistrationsTable {
  owner_id: number;
  app_key: string;
  yaml_text: string;
  workspace_sha256: string | null;
  workspace_name: string;
  created_at: number;
}

export interface Database {
  tunnel_holders: TunnelHoldersTable;
  reservations: ReservationsTable;
  clusters: ClustersTable;
  cluster_devices: ClusterDevicesTable;
  credit_ledger: CreditLedgerTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  dashboard_sessions: DashboardSessionsTable;
  projects: ProjectsTable;
  devices: DevicesTable;
  runs: RunsTable;
  run_devices: RunDevicesTable;
  log_chunks: LogChunksTable;
  endpoints: EndpointsTable;
  workspace_uploads: WorkspaceUploadsTable;
  workspace_chunks: WorkspaceChunksTable;
  workspace_blobs: WorkspaceBlobsTable;
  workspace_blob_users: WorkspaceBlobUsersTable;
  workspace_objects: WorkspaceObjectsTable;
  workspace_object_parts: WorkspaceObjectPartsTable;
  user_log_usage: UserLogUsageTable;
  endpoint_replicas: EndpointReplicasTable;
  wire_uploads: WireUploadsTable;
  wire_chunks: WireChunksTable;
  wire_registrations: WireRegistrationsTable;
}
