// Rows written straight into a store, for tests of what placement reads (no server, no agent).
import { parseJobYaml } from "@fedml/core";
import { type Kysely, sql } from "kysely";
import type { Database } from "../../src/store/schema.js";

export interface DeviceRowOptions {
  shared?: number;
  price?: number;
  status?: string;
  maxJobs?: number;
  /** last_seen_at (default: `now`). */
  seen?: number;
}

/** A bound device of `ownerId` with `gpus` A100s; answers its id. */
export async function insertDevice(
  db: Kysely<Database>,
  ownerId: number,
  gpus: number,
  now: number,
  over: DeviceRowOptions = {},
): Promise<number> {
  const row = await db
    .insertInto("devices")
    .values(deviceRow(ownerId, gpus, now, over))
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** insertDevice's row, for inserting many in one statement. */
export function deviceRow(ownerId: number, gpus: number, now: number, over: DeviceRowOptions = {}) {
  return {
    owner_id: ownerId,
    name: `d-${Math.random().toString(36).slice(2, 8)}`,
    token_hash: null,
    hostname: "h",
    os_type: "Linux",
    os_version: "6",
    cpu_count: 4,
    memory_bytes: 2 ** 33,
    gpus_json: JSON.stringify(Array.from({ length: gpus }, (_, index) => ({ index, name: "NVIDIA A100", memoryMiB: 81920 }))),
    gpu_error: null,
    address: "127.0.0.1",
    provider: "self",
    region: "local",
    price_per_gpu_hour_micros: over.price ?? 0,
    container_runtime: null,
    shared: over.shared ?? 0,
    simulated: 1,
    max_jobs: over.maxJobs ?? 1,
    agent_version: "t",
    status: over.status ?? "IDLE",
    last_seen_at: over.seen ?? now,
    version: 1,
    removed: 0,
    created_at: now,
  };
}

/** A job YAML asking for `gpus` GPUs at up to `cap` dollars an hour. */
export const gpuJobYaml = (gpus: number, cap = 100) =>
  `job: "true"\ncomputing:\n  minimum_num_gpus: ${gpus}\n  maximum_cost_per_hour: ${cap}\n`;

/** A run of `ownerId` in its own project, in `status` (QUEUED: waiting for a pass); answers its id. */
export async function insertRun(
  db: Kysely<Database>,
  ownerId: number,
  yaml: string,
  name: string,
  createdAt: number,
  status = "QUEUED",
): Promise<number> {
  const project = await db
    .insertInto("projects")
    .values({ owner_id: ownerId, name: `p-${name}`, created_at: createdAt })
    .returning("id")
    .executeTakeFirstOrThrow();
  const row = await db
    .insertInto("runs")
    .values(runRow(ownerId, project.id, yaml, name, createdAt, status))
    .returning("id")
    .executeTakeFirstOrThrow();
  return row.id;
}

/** insertRun's row, in an existing project, for inserting many in one statement. */
export function runRow(ownerId: number, projectId: number, yaml: string, name: string, createdAt: number, status = "QUEUED") {
  return {
    owner_id: ownerId,
    project_id: projectId,
    name,
    status,
    job_type: "train",
    platform: "falcon",
    yaml_text: yaml,
    spec_json: JSON.stringify(parseJobYaml(yaml)),
    workspace_sha256: null,
    resource_id: null,
    reason: null,
    exit_code: null,
    created_at: createdAt,
    started_at: null,
    ended_at: null,
    stop_requested: 0,
    cluster_id: null,
  };
}

/** Run `runId`'s part on `deviceId` at `nodeIndex` (rank one more), in `status`, with that node's index as its one GPU. */
export async function insertPart(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  nodeIndex: number,
  status: string,
): Promise<void> {
  await db
    .insertInto("run_devices")
    .values({
      run_id: runId,
      device_id: deviceId,
      rank: nodeIndex + 1,
      node_index: nodeIndex,
      status,
      gpu_indices_json: `[${nodeIndex}]`,
      exit_code: null,
      reason: null,
      started_at: null,
      ended_at: null,
      log_count: 0,
      stop_requested: 0,
    })
    .execute();
}

/** Empties what placement reads (runs, parts, devices, clusters, holds) and the users: each case starts from nothing. */
export async function clearPlacementTables(db: Kysely<Database>): Promise<void> {
  for (const table of ["run_devices", "runs", "cluster_devices", "reservations", "clusters", "devices", "projects", "users"]) {
    await sql`delete from ${sql.table(table)}`.execute(db);
  }
}

/** An active cluster of `ownerId` reserving `deviceId`; answers the cluster's id. */
export async function insertReservingCluster(
  db: Kysely<Database>,
  ownerId: number,
  deviceId: number,
  now: number,
): Promise<number> {
  const cluster = await db
    .insertInto("clusters")
    .values({
      owner_id: ownerId,
      name: "c",
      state: "active",
      needs_json: "{}",
      idle_minutes: 0,
      created_at: now,
      idle_from: now,
      ended_at: null,
      reason: null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await db.insertInto("cluster_devices").values({ cluster_id: cluster.id, device_id: deviceId }).execute();
  return cluster.id;
}
