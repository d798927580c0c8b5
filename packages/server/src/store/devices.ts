import type { DeviceFacts } from "@fedml/core";
import { DeviceStatus, toMicros } from "@fedml/core";
import { type Kysely, type Selectable, sql } from "kysely";
import type { Database, DevicesTable } from "./schema.js";
import { preparedRead } from "./prepared.js";
import { idRows } from "./row-set.js";

export type DeviceRow = Selectable<DevicesTable>;

function factColumns(facts: DeviceFacts) {
  return {
    name: facts.name,
    hostname: facts.hostname,
    os_type: facts.osType,
    os_version: facts.osVersion,
    cpu_count: Math.trunc(facts.cpuCount),
    memory_bytes: Math.trunc(facts.memoryBytes),
    gpus_json: JSON.stringify(facts.gpus),
    gpu_error: facts.gpuError ?? null,
    address: facts.address,
    provider: facts.provider,
    region: facts.region,
    price_per_gpu_hour_micros: toMicros(facts.pricePerGpuHour),
    shared: facts.shared ? 1 : 0,
    simulated: facts.simulated ? 1 : 0,
    max_jobs: Math.max(1, Math.trunc(facts.maxJobs)),
    agent_version: facts.agentVersion,
    container_runtime: facts.containerRuntime ?? null,
    cluster_nodes_json: facts.clusterNodes ? JSON.stringify(facts.clusterNodes) : null,
  };
}

export async function insertDevice(
  db: Kysely<Database>,
  ownerId: number,
  facts: DeviceFacts,
  tokenHash: string,
  now: number,
): Promise<DeviceRow> {
  return db
    .insertInto("devices")
    .values({
      owner_id: ownerId,
      token_hash: tokenHash,
      ...factColumns(facts),
      status: DeviceStatus.IDLE,
      last_seen_at: now,
      version: 1,
      removed: 0,
      created_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Re-binding: a new token, fresh facts, back from removed; assignments keep counting. */
export async function rebindDevice(
  db: Kysely<Database>,
  deviceId: number,
  facts: DeviceFacts,
  tokenHash: string,
  now: number,
): Promise<void> {
  await db
    .updateTable("devices")
    .set({
      token_hash: tokenHash,
      ...factColumns(facts),
      status: DeviceStatus.IDLE,
      last_seen_at: now,
      removed: 0,
      version: sql<number>`version + 1`,
    })
    .where("id", "=", deviceId)
    .execute();
}

export async function updateDeviceFacts(db: Kysely<Database>, deviceId: number, facts: DeviceFacts, now: number): Promise<void> {
  await db
    .updateTable("devices")
    .set({ ...factColumns(facts), status: DeviceStatus.IDLE, last_seen_at: now })
    .where("id", "=", deviceId)
    .execute();
}

const deviceById = preparedRead((db, id: number) => db.selectFrom("devices").selectAll().where("id", "=", id));

export async function findDeviceById(db: Kysely<Database>, id: number): Promise<DeviceRow | undefined> {
  return (await deviceById(db, id))[0];
}

/** What a device's token stands for on each agent request: no facts (remembered per device, auth/device-tokens.ts). */
export type DeviceIdentity = Pick<DeviceRow, "id" | "owner_id" | "name" | "status">;

const deviceByTokenHash = preparedRead((db, tokenHash: string) =>
  db
    .selectFrom("devices")
    .select(["id", "owner_id", "name", "status"])
    .where("token_hash", "=", tokenHash)
    .where("removed", "=", 0),
);

export async function findDeviceByTokenHash(db: Kysely<Database>, tokenHash: string): Promise<DeviceIdentity | undefined> {
  return (await deviceByTokenHash(db, tokenHash))[0];
}

export async function listOwnedDevices(db: Kysely<Database>, ownerId: number): Promise<DeviceRow[]> {
  return db.selectFrom("devices").selectAll().where("owner_id", "=", ownerId).where("removed", "=", 0).orderBy("id").execute();
}

/** Every bound device of every user (for admins). */
export async function listAllDevices(db: Kysely<Database>): Promise<DeviceRow[]> {
  return db.selectFrom("devices").selectAll().where("removed", "=", 0).orderBy("id").execute();
}

export async function listDevicesByIds(db: Kysely<Database>, ids: number[]): Promise<DeviceRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom("devices")
    .selectAll()
    .where("id", "in", [...new Set(ids)])
    .execute();
}

/** The devices with these ids, keyed by id (for views that join parts to their devices). */
/** Each of these devices' assignment version, in one statement (the ids as one parameter); absent: no such device. */
export async function deviceVersionsOf(db: Kysely<Database>, ids: readonly number[]): Promise<Map<number, number>> {
  const { rows } = await sql<{ id: number; version: number }>`
    select id, version from devices where id in (select c0 from ${idRows(db, ids)})`.execute(db);
  return new Map(rows.map((r) => [Number(r.id), Number(r.version)]));
}

export async function devicesById(db: Kysely<Database>, ids: number[]): Promise<Map<number, DeviceRow>> {
  return new Map((await listDevicesByIds(db, ids)).map((d) => [d.id, d]));
}

/** Devices a user may run on: their own and shared ones, bound and not offline. */
export async function listUsableDevices(db: Kysely<Database>, ownerId: number): Promise<DeviceRow[]> {
  return db
    .selectFrom("devices")
    .selectAll()
    .where("removed", "=", 0)
    .where("status", "!=", DeviceStatus.OFFLINE)
    .where((eb) => eb.or([eb("owner_id", "=", ownerId), eb("shared", "=", 1)]))
    .orderBy("id")
    .execute();
}

/** When each of these devices was last heard from, by id (a device no longer stored is absent). */
export async function lastSeenOf(db: Kysely<Database>, deviceIds: readonly number[]): Promise<Map<number, number | null>> {
  const rows = await db
    .selectFrom("devices")
    .select(["id", "last_seen_at"])
    .where("id", "in", [...deviceIds])
    .execute();
  return new Map(rows.map((row) => [row.id, row.last_seen_at]));
}

const lastSeenOfLive = preparedRead((db) =>
  db.selectFrom("devices").select(["id", "last_seen_at"]).where("removed", "=", 0).where("status", "!=", DeviceStatus.OFFLINE),
);

/** When each bound device not OFFLINE was last heard from, by id: listLiveDevices' last_seen_at alone. */
export async function listLastSeen(db: Kysely<Database>): Promise<Map<number, number | null>> {
  return new Map((await lastSeenOfLive(db)).map((row) => [row.id, row.last_seen_at]));
}

/** Heartbeat; true when the device was OFFLINE and is now back. */
export async function touchDevice(db: Kysely<Database>, deviceId: number, now: number): Promise<boolean> {
  // The usual case (the device is online) in one statement; only an OFFLINE device takes a second.
  const seen = await db
    .updateTable("devices")
    .set({ last_seen_at: now })
    .where("id", "=", deviceId)
    .where("status", "!=", DeviceStatus.OFFLINE)
    .executeTakeFirst();
  if (Number(seen.numUpdatedRows) > 0) return false;
  const revived = await db
    .updateTable("devices")
    .set({ last_seen_at: now, status: DeviceStatus.IDLE })
    .where("id", "=", deviceId)
    .where("status", "=", DeviceStatus.OFFLINE)
    .executeTakeFirst();
  return Number(revived.numUpdatedRows) > 0;
}

/**
 * The span of last words that counts as heard: from `before` to `notAfter` (wall ms). A last
 * word after `notAfter` was written before the wall clock stepped back.
 */
export interface HeardSpan {
  before: number;
  notAfter: number;
}

// biome-ignore lint/suspicious/noExplicitAny: a where-callback over the devices table.
const silentIn = (span: HeardSpan) => (eb: any) =>
  eb.or([eb("last_seen_at", "is", null), eb("last_seen_at", "<", span.before), eb("last_seen_at", ">", span.notAfter)]);

/** Bound devices not heard from within `span` (OFFLINE ones too when `includeOffline`). */
export async function listSilentDevices(db: Kysely<Database>, span: HeardSpan, includeOffline = false): Promise<DeviceRow[]> {
  let q = db.selectFrom("devices").selectAll().where("removed", "=", 0).where(silentIn(span));
  if (!includeOffline) q = q.where("status", "!=", DeviceStatus.OFFLINE);
  return q.execute();
}

/** OFFLINE unless it was heard from meanwhile; true when this call changed it. */
export async function markDeviceOffline(db: Kysely<Database>, deviceId: number, span: HeardSpan): Promise<boolean> {
  const result = await db
    .updateTable("devices")
    .set({ status: DeviceStatus.OFFLINE })
    .where("id", "=", deviceId)
    .where("status", "!=", DeviceStatus.OFFLINE)
    .where(silentIn(span))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function bumpDeviceVersion(db: Kysely<Database>, deviceId: number): Promise<void> {
  await db.updateTable("devices").set({ version: sql<number>`version + 1` }).where("id", "=", deviceId).execute();
}

/** Unbinding keeps the row (old runs name it) but forgets the token. */
export async function removeDevice(db: Kysely<Database>, deviceId: number): Promise<void> {
  await db
    .updateTable("devices")
    .set({ removed: 1, token_hash: null, version: sql<number>`version + 1` })
    .where("id", "=", deviceId)
    .execute();
}

/** The columns placement reads of a device: its capacity, price, owner and when it was heard from. */
export const placementColumns = [
  "id",
  "name",
  "owner_id",
  "shared",
  "gpus_json",
  "max_jobs",
  "price_per_gpu_hour_micros",
  "provider",
  "region",
  "simulated",
  "container_runtime",
  "last_seen_at",
] as const;

export type PlacementDeviceRow = Pick<DeviceRow, (typeof placementColumns)[number]>;

/** Every bound device not OFFLINE, as placement reads it, in id order. */
const liveDevices = (db: Kysely<Database>) =>
  db.selectFrom("devices").select(placementColumns).where("removed", "=", 0).where("status", "!=", DeviceStatus.OFFLINE);

/** listLiveDevices' rows of these devices alone (a kept fleet catching up). */
export async function listLiveDevicesIn(db: Kysely<Database>, ids: readonly number[]): Promise<PlacementDeviceRow[]> {
  if (ids.length === 0) return [];
  return liveDevices(db)
    .where("id", "in", [...ids])
    .orderBy("id")
    .execute();
}

/** Every bound device not OFFLINE: one read per queue pass, filtered per user in memory. */
export const listLiveDevices: (db: Kysely<Database>) => Promise<PlacementDeviceRow[]> = preparedRead((db) =>
  liveDevices(db).orderBy("id"),
);
