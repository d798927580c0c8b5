import type { Generated } from "kysely";

/** Table types. Booleans are 0/1 integers and times epoch-ms integers on both dialects. */
export interface UsersTable {
  id: Generated<number>;
  name: string;
  is_admin: number;
  created_at: number;
  /** USD; admins grant, runs on others' paid devices spend. */
  credit_balance: Generated<number>;
  /** 1 once any credit was granted: our stand-in for "a credit card is bound". */
  card_bound: Generated<number>;
}

export interface ApiKeysTable {
  id: Generated<number>;
  user_id: number;
  key_hash: string;
  created_at: number;
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
  price_per_gpu_hour: number;
  shared: number;
  simulated: number;
  max_jobs: number;
  agent_version: string;
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
  price_per_gpu_hour: number;
  stop_requested: number;
}

export interface LogLinesTable {
  run_id: number;
  device_id: number;
  seq: number;
  stream: string;
  time: number;
  text: string;
}

export interface CreditLedgerTable {
  id: Generated<number>;
  user_id: number;
  /** Signed USD: + grant or earning, - charge. */
  amount: number;
  /** grant | charge | earning */
  kind: string;
  run_id: number | null;
  device_id: number | null;
  note: string;
  created_at: number;
}

export interface Database {
  credit_ledger: CreditLedgerTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  projects: ProjectsTable;
  devices: DevicesTable;
  runs: RunsTable;
  run_devices: RunDevicesTable;
  log_lines: LogLinesTable;
}
