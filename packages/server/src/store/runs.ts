import { EdgeStatus, RunStatus, TERMINAL_EDGE_STATUSES } from "@fedml/core";
import { type ExpressionBuilder, type Insertable, type Kysely, type Selectable, type Updateable, sql } from "kysely";
import type { Database, RunDevicesTable, RunsTable } from "./schema.js";
import { containsIgnoringCase } from "./like.js";
import { prepared, preparedRead } from "./prepared.js";
import { idRows } from "./row-set.js";
import { isPostgres } from "./transaction.js";

export type RunRow = Selectable<RunsTable>;
export type RunDeviceRow = Selectable<RunDevicesTable>;

/**
 * Every part status that is not terminal. Queried as `status in (…)` rather than `not in
 * (terminal)` so that the (status, device_id) index finds the few live parts directly.
 */
export const liveEdgeStatuses = Object.values(EdgeStatus).filter((s) => !TERMINAL_EDGE_STATUSES.has(s));

const runInsert = prepared((db, run: Insertable<RunsTable>) => db.insertInto("runs").values(run).returningAll());

export async function insertRun(db: Kysely<Database>, run: Insertable<RunsTable>): Promise<RunRow> {
  const [row] = (await runInsert(db, run)).rows;
  if (!row) throw new Error("the run's insert returned no row");
  return row;
}

const runById = preparedRead((db, runId: number) => db.selectFrom("runs").selectAll().where("id", "=", runId));

export async function findRun(db: Kysely<Database>, runId: number): Promise<RunRow | undefined> {
  return (await runById(db, runId))[0];
}

/** Where a newest-first listing stopped: the last run it gave. */
export interface RunCursor {
  createdAt: number;
  id: number;
}

/** The opaque `before`/`nextCursor` of GET /runs: "<created_at>.<id>" (the schema checks its form). */
export const runCursorOf = (run: RunRow): string => `${run.created_at}.${run.id}`;
export function parseRunCursor(cursor: string): RunCursor {
  const [createdAt, id] = cursor.split(".").map(Number);
  return { createdAt, id };
}

export const DEFAULT_RUN_LIST_LIMIT = 1000;

export interface RunListFilter {
  name?: string;
  /** Part of the name, any case. */
  nameContains?: string;
  id?: number;
  platform?: string;
  /** The project's name. */
  project?: string;
  limit?: number;
  statuses?: string[];
  /** Only runs after this one in the order (keyset paging: as fast on page 2,000 as on page 1). */
  before?: RunCursor;
}

/** An owner's runs, newest first; ownerId null: every user's (for admins). */
export async function listOwnerRuns(db: Kysely<Database>, ownerId: number | null, filter: RunListFilter): Promise<RunRow[]> {
  let q = db.selectFrom("runs").selectAll();
  if (ownerId !== null) q = q.where("owner_id", "=", ownerId);
  if (filter.statuses !== undefined && filter.statuses.length > 0) q = q.where("status", "in", filter.statuses);
  if (filter.name !== undefined) q = q.where("name", "=", filter.name);
  if (filter.nameContains !== undefined) {
    q = q.where(containsIgnoringCase("name", filter.nameContains));
  }
  if (filter.id !== undefined) q = q.where("id", "=", filter.id);
  if (filter.platform !== undefined) q = q.where("platform", "=", filter.platform);
  if (filter.project !== undefined) {
    let projects = db.selectFrom("projects").select("id").where("name", "=", filter.project);
    if (ownerId !== null) projects = projects.where("owner_id", "=", ownerId);
    q = q.where("project_id", "in", projects);
  }
  const before = filter.before;
  if (before !== undefined) {
    q = q.where((eb) =>
      eb.or([
        eb("created_at", "<", before.createdAt),
        eb.and([eb("created_at", "=", before.createdAt), eb("id", "<", before.id)]),
      ]),
    );
  }
  return q
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(filter.limit ?? DEFAULT_RUN_LIST_LIMIT)
    .execute();
}

/** The columns a queue pass reads of a waiting run (not its YAML: the decoded spec is enough). */
export const waitingRunColumns = [
  "id",
  "owner_id",
  "status",
  "job_type",
  "spec_json",
  "resource_id",
  "reason",
  "created_at",
  "cluster_id",
  "priority",
] as const;

export type WaitingRunRow = Pick<RunRow, (typeof waitingRunColumns)[number]>;

const someWaitingRun = preparedRead((db) =>
  db.selectFrom("runs").select("id").where("status", "in", [RunStatus.QUEUED, RunStatus.CLUSTER_QUEUE]).limit(1),
);

/** Whether any run waits to be placed (QUEUED, or CLUSTER_QUEUE on a cluster): one index probe. */
export async function anyRunWaiting(db: Kysely<Database>): Promise<boolean> {
  return (await someWaitingRun(db)).length > 0;
}

/** Runs waiting their turn on a cluster, oldest first. */
export async function listClusterQueuedRuns(db: Kysely<Database>): Promise<WaitingRunRow[]> {
  return db
    .selectFrom("runs")
    .select(waitingRunColumns)
    .where("status", "=", RunStatus.CLUSTER_QUEUE)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
}

export async function updateRun(db: Kysely<Database>, runId: number, changes: Updateable<RunsTable>): Promise<void> {
  await db.updateTable("runs").set(changes).where("id", "=", runId).execute();
}

/**
 * Changes the run only while its status is one of `expected`. Answers false when it was not
 * (someone else got there first): the caller then leaves the run alone.
 */
export async function updateRunIf(
  db: Kysely<Database>,
  runId: number,
  expected: readonly string[],
  changes: Updateable<RunsTable>,
): Promise<boolean> {
  if (expected.length === 0) return false;
  const result = await runUpdateIf(db, runId, expected, changes);
  return Number(result.numAffectedRows) > 0;
}

const runUpdateIf = prepared((db, runId: number, expected: readonly string[], changes: Updateable<RunsTable>) =>
  db
    .updateTable("runs")
    .set(changes)
    .where("id", "=", runId)
    .where("status", "in", [...expected]),
);

/** updateRunIf for one run part (run, device). */
export async function updateRunDeviceIf(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  expected: readonly string[],
  changes: Updateable<RunDevicesTable>,
): Promise<boolean> {
  if (expected.length === 0) return false;
  const result = await partUpdateIf(db, runId, deviceId, expected, changes);
  return Number(result.numAffectedRows) > 0;
}

const partUpdateIf = prepared(
  (db, runId: number, deviceId: number, expected: readonly string[], changes: Updateable<RunDevicesTable>) =>
    db
      .updateTable("run_devices")
      .set(changes)
      .where("run_id", "=", runId)
      .where("device_id", "=", deviceId)
      .where("status", "in", [...expected]),
);

/**
 * Inside a transaction: holds the run's row until the commit, so that two changes to one run
 * (two parts ending at once, a stop and a final report) do not each roll the run up from a
 * view missing the other's write. SQLite's IMMEDIATE transaction already excludes every
 * other writer. NO KEY UPDATE, not UPDATE: a log batch updating the run's part twice in one
 * transaction re-checks the part's foreign key (FOR KEY SHARE on this row), which FOR UPDATE
 * blocks, so a status report and a log batch of one part deadlocked.
 */
export async function lockRun(db: Kysely<Database>, runId: number): Promise<void> {
  if (isPostgres(db)) await sql`select id from runs where id = ${runId} for no key update`.execute(db);
}

/** lockRun and findRun in one statement: the run as it stands, held until the commit. */
export async function lockAndFindRun(db: Kysely<Database>, runId: number): Promise<RunRow | undefined> {
  return (await lockedRunById(db, runId))[0];
}

const lockedRunById = preparedRead((db, runId: number) => {
  const query = db.selectFrom("runs").selectAll().where("id", "=", runId);
  return isPostgres(db) ? query.forNoKeyUpdate() : query;
});

/** Every part of one run, node 0 first. */
export const listPartsOfRun = preparedRead((db, runId: number) =>
  db.selectFrom("run_devices").selectAll().where("run_id", "=", runId).orderBy("node_index"),
);

export async function insertRunDevice(db: Kysely<Database>, row: Insertable<RunDevicesTable>): Promise<void> {
  await db.insertInto("run_devices").values(row).execute();
}

export async function listRunDevices(db: Kysely<Database>, runIds: number[]): Promise<RunDeviceRow[]> {
  if (runIds.length === 0) return [];
  return db.selectFrom("run_devices").selectAll().where("run_id", "in", runIds).orderBy("run_id").orderBy("node_index").execute();
}

export async function findRunDevice(db: Kysely<Database>, runId: number, deviceId: number): Promise<RunDeviceRow | undefined> {
  return db
    .selectFrom("run_devices")
    .selectAll()
    .where("run_id", "=", runId)
    .where("device_id", "=", deviceId)
    .executeTakeFirst();
}

export async function updateRunDevice(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  changes: Updateable<RunDevicesTable>,
): Promise<void> {
  await db.updateTable("run_devices").set(changes).where("run_id", "=", runId).where("device_id", "=", deviceId).execute();
}

/** Where the GPUs of every live (not ended) run part are: what capacity is computed from. */
const livePartHoldings = (db: Kysely<Database>) =>
  db.selectFrom("run_devices").select(["device_id", "gpu_indices_json"]).where("status", "in", liveEdgeStatuses);

export const listLivePartHoldings = preparedRead(livePartHoldings);

/** listLivePartHoldings' rows on these devices alone (a kept fleet catching up). */
export async function listLivePartHoldingsOn(
  db: Kysely<Database>,
  deviceIds: readonly number[],
): Promise<{ device_id: number; gpu_indices_json: string }[]> {
  if (deviceIds.length === 0) return [];
  return livePartHoldings(db)
    .where("device_id", "in", [...deviceIds])
    .execute();
}

/** Run parts not yet ended, on the given devices (all devices when omitted). */
export async function listLiveRunDevices(db: Kysely<Database>, deviceIds?: number[]): Promise<RunDeviceRow[]> {
  if (deviceIds && deviceIds.length === 0) return [];
  let q = db.selectFrom("run_devices").selectAll().where("status", "in", liveEdgeStatuses);
  if (deviceIds) q = q.where("device_id", "in", deviceIds);
  return q.orderBy("run_id").execute();
}

/**
 * Every part (ended or not) of the runs that have a live part on the device, in one read:
 * what a device's assignments are built from. Ordered by run, then node.
 */
export const listPartsOfRunsLiveOn = preparedRead((db, deviceId: number) =>
  db
    .selectFrom("run_devices")
    .selectAll()
    .where(
      "run_id",
      "in",
      db.selectFrom("run_devices").select("run_id").where("status", "in", liveEdgeStatuses).where("device_id", "=", deviceId),
    )
    .orderBy("run_id")
    .orderBy("node_index"),
);

/** A device's version, and the place and state of one of its live parts (all null for a device with none). */
export type DeviceLivePartKey = { id: number; version: number } & {
  [K in "run_id" | "status" | "stop_requested" | "rank" | "node_index" | "gpu_indices_json"]: RunDeviceRow[K] | null;
};

/**
 * Each device's version with its own live parts' place and state, for many devices in one
 * statement (the ids as one parameter, store/row-set.ts): one row per live part, or one row
 * of nulls for a device with none, ordered by device, run and node. What a held poll's
 * answer compares with the one it kept (devices/assignments.ts).
 */
export async function listDevicesVersionAndLiveParts(db: Kysely<Database>, deviceIds: number[]): Promise<DeviceLivePartKey[]> {
  const ids = idRows(db, deviceIds);
  const { rows } = await sql<DeviceLivePartKey>`
    select devices.id, devices.version, run_devices.run_id, run_devices.status, run_devices.stop_requested,
      run_devices.rank, run_devices.node_index, run_devices.gpu_indices_json
    from devices left join run_devices
      on run_devices.device_id = devices.id and run_devices.status in (${sql.join(liveEdgeStatuses)})
    where devices.id in (select c0 from ${ids})
    order by devices.id, run_devices.run_id, run_devices.node_index`.execute(db);
  return rows;
}

/**
 * How many runs each of these devices has had a part in, ended ones included (absent: none).
 * A run has at most one part per device (the primary key), so its parts are counted: a count
 * of distinct runs sorted every part of the device's history to count them.
 */
export async function countRunsPerDevice(db: Kysely<Database>, deviceIds: number[]): Promise<Map<number, number>> {
  if (deviceIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("run_devices")
    .select((eb) => ["device_id", eb.fn.countAll<number>().as("runs")])
    .where("device_id", "in", deviceIds)
    .groupBy("device_id")
    .execute();
  return new Map(rows.map((r) => [r.device_id, Number(r.runs)]));
}

/**
 * Run parts not yet ended whose device was not heard from between `before` and `notAfter`
 * (wall ms), with the device's name: the lost-device sweep's one query.
 */
export async function listLivePartsOnSilentDevices(
  db: Kysely<Database>,
  span: { before: number; notAfter: number },
): Promise<(RunDeviceRow & { device_name: string })[]> {
  return db
    .selectFrom("run_devices")
    .innerJoin("devices", "devices.id", "run_devices.device_id")
    .selectAll("run_devices")
    .select("devices.name as device_name")
    .where("run_devices.status", "in", liveEdgeStatuses)
    .where((eb) =>
      eb.or([
        eb("devices.last_seen_at", "is", null),
        eb("devices.last_seen_at", "<", span.before),
        eb("devices.last_seen_at", ">", span.notAfter),
      ]),
    )
    .orderBy("run_devices.run_id")
    .execute();
}

/**
 * A run not ended with a part on `deviceId` whose workspace is `sha256` (the device may fetch
 * it). From the device's live parts: a sweep's runs share one workspace, and from the runs'
 * side every run of it there ever was would be read.
 */
export async function liveRunOnDeviceWith(
  db: Kysely<Database>,
  deviceId: number,
  sha256: string,
): Promise<{ id: number } | undefined> {
  return livePartsThenRuns(db)
    .select("runs.id")
    .where("run_devices.device_id", "=", deviceId)
    .where("runs.workspace_sha256", "=", sha256)
    .executeTakeFirst();
}

/** What billing reads of a part (every live part, each tick: only the columns it needs). */
const billedPartColumns = [
  "run_devices.run_id",
  "run_devices.device_id",
  "run_devices.node_index",
  "run_devices.gpu_indices_json",
  "run_devices.started_at",
  "run_devices.ended_at",
  "run_devices.stop_requested_at",
  "run_devices.runtime_ms",
  "run_devices.price_per_gpu_hour_micros",
] as const;

export type BilledPartRow = Pick<
  RunDeviceRow,
  | "run_id"
  | "device_id"
  | "node_index"
  | "gpu_indices_json"
  | "started_at"
  | "ended_at"
  | "stop_requested_at"
  | "runtime_ms"
  | "price_per_gpu_hour_micros"
> & { owner_id: number; cluster_id: number | null };

/**
 * Parts joined to their runs, the parts read first. Left to itself, SQLite (which keeps no
 * statistics here) starts from the runs, by an index of the owner or the workspace asked for,
 * i.e. from every run there ever was of it: 250 ms a call at 100,000 runs, once per queue pass
 * and launch. SQLite keeps a CROSS JOIN's order as written; PostgreSQL plans it like any inner
 * join.
 */
export function partsThenRuns(db: Kysely<Database>) {
  return db.selectFrom("run_devices").crossJoin("runs").whereRef("runs.id", "=", "run_devices.run_id");
}

/** partsThenRuns of the parts not ended (few rows, by run_devices_status_device). */
function livePartsThenRuns(db: Kysely<Database>) {
  return partsThenRuns(db).where("run_devices.status", "in", liveEdgeStatuses);
}

/**
 * Parts that bill now: not ended, no stop asked for, on a paid device (of every owner, or of
 * one). Their owners' commitments and what they have spent so far come from these.
 */
export async function listBillingParts(db: Kysely<Database>, ownerId?: number | readonly number[]): Promise<BilledPartRow[]> {
  let q = livePartsThenRuns(db)
    .select([...billedPartColumns, "runs.owner_id", "runs.cluster_id"])
    .where("run_devices.stop_requested", "=", 0)
    .where("run_devices.price_per_gpu_hour_micros", ">", 0);
  if (typeof ownerId === "number") q = q.where("runs.owner_id", "=", ownerId);
  else if (ownerId !== undefined) q = q.where("runs.owner_id", "in", ownerId.length > 0 ? [...ownerId] : [-1]);
  return q.orderBy("run_devices.run_id").execute();
}

/**
 * Per owner, a digest of the parts that bill now: it changes whenever one starts, ends, gets a
 * start time or changes price. The balance guard rereads an owner's parts only then (or when
 * their slack may be spent), rather than shipping every part of every owner each tick. Counts
 * and sums come back as numbers or strings depending on the driver: compare them as text.
 */
export async function billingPartDigests(db: Kysely<Database>): Promise<Map<number, string>> {
  const rows = await livePartsThenRuns(db)
    .select((eb) => ["runs.owner_id", ...partDigestColumns(eb)])
    .where("run_devices.stop_requested", "=", 0)
    .where("run_devices.price_per_gpu_hour_micros", ">", 0)
    .groupBy("runs.owner_id")
    .execute();
  return new Map(rows.map((r) => [r.owner_id, partDigestOf(r)]));
}

/**
 * billingPartDigests summed over every owner, read without the join to runs (the costly part
 * of the grouped one): while it stays the same, so do the owners' digests.
 */
export async function allBillingPartsDigest(db: Kysely<Database>): Promise<string> {
  const r = await db
    .selectFrom("run_devices")
    .select((eb) => partDigestColumns(eb))
    .where("run_devices.status", "in", liveEdgeStatuses)
    .where("run_devices.stop_requested", "=", 0)
    .where("run_devices.price_per_gpu_hour_micros", ">", 0)
    .executeTakeFirstOrThrow();
  return partDigestOf(r);
}

/** The digest's columns as one text (counts and sums come back as numbers or strings, by driver). */
function partDigestOf(r: {
  parts: unknown;
  started: unknown;
  runs: unknown;
  nodes: unknown;
  latest: unknown;
  prices: unknown;
}): string {
  return `${r.parts}/${r.started}/${r.runs}/${r.nodes}/${r.latest}/${r.prices}`;
}

function partDigestColumns(eb: ExpressionBuilder<Database, "run_devices">) {
  return [
    eb.fn.countAll().as("parts"),
    eb.fn.count("run_devices.started_at").as("started"),
    eb.fn.sum("run_devices.run_id").as("runs"),
    eb.fn.sum("run_devices.node_index").as("nodes"),
    eb.fn.max("run_devices.started_at").as("latest"),
    eb.fn.sum("run_devices.price_per_gpu_hour_micros").as("prices"),
  ] as const;
}

/** The parts a cluster's runs had on a device since `since` (what a hold's charge already covers). */
export async function listClusterPartsOn(
  db: Kysely<Database>,
  clusterId: number,
  deviceId: number,
  since: number,
): Promise<RunDeviceRow[]> {
  return db
    .selectFrom("run_devices")
    .innerJoin("runs", "runs.id", "run_devices.run_id")
    .selectAll("run_devices")
    .where("runs.cluster_id", "=", clusterId)
    .where("run_devices.device_id", "=", deviceId)
    .where("run_devices.started_at", ">=", since)
    .execute();
}

/** Parts still STOPPING whose stop was asked for before `before` (wall ms). */
export async function listUnacknowledgedStops(db: Kysely<Database>, before: number): Promise<RunDeviceRow[]> {
  return db
    .selectFrom("run_devices")
    .selectAll()
    .where("status", "=", EdgeStatus.STOPPING)
    .where("stop_requested_at", "<", before)
    .orderBy("run_id")
    .execute();
}

/** Ends a part only if it is still in `expected`; false when someone else got there first. */
export async function endPartIf(
  db: Kysely<Database>,
  runId: number,
  deviceId: number,
  expected: string,
  changes: Updateable<RunDevicesTable>,
): Promise<boolean> {
  const result = await db
    .updateTable("run_devices")
    .set(changes)
    .where("run_id", "=", runId)
    .where("device_id", "=", deviceId)
    .where("status", "=", expected)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** How many queued runs a pass reads of each user: `perUser`, or more when few users share `total`. */
export interface QueueWindow {
  perUser: number;
  total: number;
}

/**
 * The head of every user's queue: the same number of each user's QUEUED runs, highest
 * priority then oldest first. Bounded so that one user's 10,000 queued runs cost a pass no
 * more than anyone else's few; when few users are queuing each gets an equal share of
 * `total`, so that a lone user's sweep is not placed 50 runs a pass.
 */
export async function listQueueHeads(db: Kysely<Database>, window: QueueWindow): Promise<WaitingRunRow[]> {
  if (isPostgres(db)) {
    // One round trip: each queuing user's head through the runs_queue_turn index. The users
    // are found by skipping from one to the next along that index (a recursive CTE): a
    // distinct over every queued run reads all of them, 100,000 rows for 200 users.
    const { rows } = await sql<WaitingRunRow>`
      with recursive o(owner_id) as (
        select min(owner_id) from runs where status = ${RunStatus.QUEUED}
        union all
        select (select min(owner_id) from runs where status = ${RunStatus.QUEUED} and owner_id > o.owner_id)
        from o where o.owner_id is not null
      ),
      share(n) as (
        select greatest(${window.perUser}::int, ceil(${window.total}::numeric / greatest(count(*), 1))::int)
        from o where o.owner_id is not null
      )
      select r.* from o
      cross join lateral (
        select ${sql.join(waitingRunColumns.map((c) => sql.ref(c)))} from runs
        where status = ${RunStatus.QUEUED} and owner_id = o.owner_id
        order by priority desc, created_at, id limit (select n from share)
      ) r
      where o.owner_id is not null`.execute(db);
    return rows;
  }
  // SQLite has no lateral join, and a query costs no round trip in-process.
  const owners = await db.selectFrom("runs").select("owner_id").distinct().where("status", "=", RunStatus.QUEUED).execute();
  const perUser = Math.max(window.perUser, Math.ceil(window.total / Math.max(owners.length, 1)));
  const heads: WaitingRunRow[] = [];
  for (const { owner_id } of owners) {
    const rows = await db
      .selectFrom("runs")
      .select(waitingRunColumns)
      .where("status", "=", RunStatus.QUEUED)
      .where("owner_id", "=", owner_id)
      .orderBy("priority", "desc")
      .orderBy("created_at")
      .orderBy("id")
      .limit(perUser)
      .execute();
    heads.push(...rows);
  }
  return heads;
}

/** When each user last had a run placed (the fair queue's turn order); absent: never. */
export async function lastServedByOwner(db: Kysely<Database>, ownerIds: number[]): Promise<Map<number, number>> {
  if (ownerIds.length === 0) return new Map();
  // One max per owner, each a seek to the end of the owner's stretch of runs_owner_placed: a
  // max grouped over the owners reads every run they ever had.
  const rows = await db
    .selectFrom("users")
    .select((eb) => [
      "users.id as owner_id",
      eb
        .selectFrom("runs")
        .select((inner) => inner.fn.max("runs.placed_at").as("placed_at"))
        .whereRef("runs.owner_id", "=", "users.id")
        .as("last"),
    ])
    .where("users.id", "in", [...new Set(ownerIds)])
    .execute();
  return new Map(rows.filter((r) => r.last !== null).map((r) => [r.owner_id, Number(r.last)]));
}
