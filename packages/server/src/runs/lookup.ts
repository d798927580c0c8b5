import { FedmlError, type FedMLRunModel, ResultCode } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { devicesById } from "../store/devices.js";
import { parseRowId } from "../store/ids.js";
import { projectNamesById } from "../store/projects.js";
import { type RunRow, findRun, listRunDevices } from "../store/runs.js";
import { toRunModel } from "./run-view.js";

/** The caller's run. Another user's run answers exactly like an unknown one. */
export async function ownedRun(ctx: ServerContext, ownerId: number, runId: string): Promise<RunRow> {
  const id = parseRowId(runId);
  const run = id !== undefined ? await findRun(ctx.db, id) : undefined;
  if (!run || run.owner_id !== ownerId) {
    throw new FedmlError(ResultCode.JOB_NOT_EXISTS, `run ${runId} not found`, 404);
  }
  return run;
}

export async function toRunModels(ctx: ServerContext, runs: RunRow[]): Promise<FedMLRunModel[]> {
  const parts = await listRunDevices(
    ctx.db,
    runs.map((r) => r.id),
  );
  const devices = await devicesById(
    ctx.db,
    parts.map((p) => p.device_id),
  );
  const projects = await projectNamesById(
    ctx.db,
    runs.map((r) => r.project_id),
  );
  const now = ctx.now();
  return runs.map((run) =>
    toRunModel({
      run,
      parts: parts.filter((p) => p.run_id === run.id),
      devicesById: devices,
      projectName: projects.get(run.project_id) ?? "default",
      publicUrl: ctx.publicUrl(),
      now,
    }),
  );
}
