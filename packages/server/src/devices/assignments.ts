import { type Assignment, type AssignmentsResponse, type CommandSpec, type JobSpec, jobContainer } from "@fedml/core";
import type { Kysely } from "kysely";
import type { ServerContext } from "../context.js";
import type { Database } from "../store/schema.js";
import { computeJobEnv, type EnvPart } from "../runs/job-env.js";
import { parseIndices } from "../scheduler/capacity.js";
import { type DeviceRow, devicesById, findDeviceById } from "../store/devices.js";
import { projectNamesById } from "../store/projects.js";
import { type DeviceLivePartKey, listDevicesVersionAndLiveParts, listPartsOfRunsLiveOn } from "../store/runs.js";
import { TurnBatchedReads } from "../store/turn-batched-reads.js";
import { isLivePart } from "../runs/rollup.js";
import { memoDecode } from "../scheduler/decode-memo.js";
import { isServingJob } from "../serving/lifecycle.js";
import { servingOfRuns } from "../store/endpoint-replicas.js";
import { federatedCommand, federatedEnv } from "../federate/env.js";
import { decodeJobSpec } from "../store/json-columns.js";

const NO_COMMAND: CommandSpec = { posix: null, windows: null };

/** What the agent enforces (cgroup limits) and where the job runs (its image); omitted when neither applies. */
function runLimitsAndContainer(spec: JobSpec): Pick<Assignment, "limits" | "container"> {
  const memoryBytes = spec.computing?.memoryBytes ?? null;
  const cpus = spec.computing?.cpus ?? null;
  const timeLimitSeconds = spec.computing?.timeLimitSeconds ?? null;
  const container = jobContainer(spec);
  return {
    ...(memoryBytes === null && cpus === null && timeLimitSeconds === null
      ? {}
      : { limits: { memoryBytes, cpus, ...(timeLimitSeconds === null ? {} : { timeLimitSeconds }) } }),
    ...(container ? { container } : {}),
  };
}

/** Decoded specs by their text: a device's poll sends all its live runs again each time. */
const specOf = memoDecode(decodeJobSpec, 2_000);

type Part = Awaited<ReturnType<typeof listPartsOfRunsLiveOn>>[number];
type KeyPart = Pick<Part, "run_id" | "status" | "stop_requested" | "rank" | "node_index" | "gpu_indices_json">;

/** What of a device's live parts its answer shows (with its version: whatever else is in an answer only changes with it). */
function partsKey(version: number, mine: readonly KeyPart[]): string {
  return `${version}|${mine.map((p) => `${p.run_id}:${p.status}:${p.stop_requested}:${p.rank}:${p.node_index}:${p.gpu_indices_json}`).join(",")}`;
}

/**
 * A device's whole desired state (every run part on it not yet ended) as the JSON text of the
 * poll's answer, remembering each device's last answer. Most polls are heartbeats that find
 * nothing changed; rebuilding their answer read the runs, projects and serving rows again,
 * built every assignment anew and serialized it. The text is reused while the device's version
 * and its live parts (status, stop flag, place) read the same: placing, stopping or ending a
 * part on the device changes one or the other. Kept as text, not objects: with 10,000 devices
 * an answer's object graph (every job's environment) held several times its text's memory.
 */
export class AssignmentAnswers {
  private readonly last = new Map<number, { key: string; json: string }>();
  /** Each device's version and live parts, read with the other answers of the same turn (an expiry slot's). */
  private readonly keys: TurnBatchedReads<DeviceLivePartKey[]>;

  constructor(db: Kysely<Database>) {
    this.keys = new TurnBatchedReads(async (ids) => {
      const byDevice = new Map<number, DeviceLivePartKey[]>();
      for (const row of await listDevicesVersionAndLiveParts(db, ids)) {
        const id = Number(row.id);
        const rows = byDevice.get(id);
        if (rows) rows.push(row);
        else byDevice.set(id, [row]);
      }
      return byDevice;
    });
  }

  async answer(ctx: ServerContext, deviceId: number): Promise<string> {
    // The version and the device's own live parts first, in one read: the whole row (two
    // dozen columns) and the other parts of its runs are read only to build anew.
    const keyRows = (await this.keys.read(deviceId)) ?? [];
    if (keyRows.length === 0) {
      this.last.delete(deviceId);
      return NO_DEVICE_ANSWER;
    }
    const kept = this.last.get(deviceId);
    // A row with a null run_id stands for a device with no live part; a part's columns are never null.
    const live = keyRows.filter((p): p is DeviceLivePartKey & KeyPart => p.run_id !== null);
    if (kept?.key === partsKey(Number(keyRows[0].version), live)) return kept.json;
    const allParts = await listPartsOfRunsLiveOn(ctx.db, deviceId);
    const mine = allParts.filter((p) => p.device_id === deviceId && isLivePart(p));
    const device = await findDeviceById(ctx.db, deviceId);
    if (!device) {
      this.last.delete(deviceId);
      return NO_DEVICE_ANSWER;
    }
    // Keyed by the version the whole row read: a bump in between is not lost, only answered again.
    const key = partsKey(device.version, mine);
    const json = JSON.stringify(await assemble(ctx, device, allParts, mine));
    this.last.set(deviceId, { key, json });
    return json;
  }
}

const NO_DEVICE_ANSWER = JSON.stringify({ version: 0, assignments: [] } satisfies AssignmentsResponse);

async function assemble(ctx: ServerContext, device: DeviceRow, allParts: Part[], mine: Part[]): Promise<AssignmentsResponse> {
  const deviceId = device.id;
  const runIds = mine.map((p) => p.run_id);
  if (runIds.length === 0) return { version: device.version, assignments: [] };
  const runs = await ctx.db.selectFrom("runs").selectAll().where("id", "in", runIds).execute();
  // Most runs have this device alone: the others are read only for a run spread wider.
  const otherIds = allParts.map((p) => p.device_id).filter((id) => id !== deviceId);
  const devices = otherIds.length > 0 ? await devicesById(ctx.db, otherIds) : new Map<number, DeviceRow>();
  devices.set(device.id, device);
  const projects = await projectNamesById(
    ctx.db,
    runs.map((r) => r.project_id),
  );
  // Only serving runs have an endpoint replica.
  const servingRunIds = runs.filter((r) => isServingJob({ jobType: r.job_type })).map((r) => r.id);
  const serving = await servingOfRuns(ctx.db, servingRunIds);
  const assignments: Assignment[] = [];
  for (const part of mine) {
    const run = runs.find((r) => r.id === part.run_id);
    if (!run) continue;
    const spec = specOf(run.spec_json);
    const toEnvPart = (p: (typeof allParts)[number]): EnvPart => ({
      deviceId: p.device_id,
      nodeIndex: p.node_index,
      gpuIndices: parseIndices(p.gpu_indices_json),
    });
    const parts = allParts.filter((p) => p.run_id === run.id);
    const federated = spec.jobType === "federate";
    const env = computeJobEnv({
      runId: run.id,
      runName: run.name,
      projectName: projects.get(run.project_id) ?? "default",
      part: toEnvPart(part),
      parts: parts.map(toEnvPart),
      addressOf: (id) => devices.get(id)?.address ?? "",
      extraEnv: spec.extraEnv ?? {},
    });
    const served = serving.get(run.id);
    assignments.push({
      runId: String(run.id),
      rank: part.rank,
      nodeIndex: part.node_index,
      numNodes: parts.length,
      gpuIndices: parseIndices(part.gpu_indices_json),
      workspaceSha256: run.workspace_sha256,
      bootstrap: spec.bootstrap,
      job: (federated ? federatedCommand(spec, part.rank) : spec.job) ?? NO_COMMAND,
      env: federated ? federatedEnv(env, part.rank, parts.length) : env,
      stopRequested: part.stop_requested === 1 || run.stop_requested === 1,
      stopGraceMs: ctx.options.stopGraceMs,
      ...(served === undefined
        ? {}
        : {
            serving: {
              endpointId: String(served.endpointId),
              probePath: served.probePath,
              probeIntervalMs: served.probeIntervalMs,
            },
          }),
      ...runLimitsAndContainer(spec),
    });
  }
  return { version: device.version, assignments };
}
