import { type CostLine, type CostReport, fromMicros } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { gpuCountOf } from "../scheduler/capacity.js";
import { devicesById } from "../store/devices.js";
import { projectNamesById } from "../store/projects.js";
import type { RunDeviceRow } from "../store/runs.js";
import { billableMs, partCost } from "../billing/part-cost.js";

const HOUR_MS = 3_600_000;
const round = (v: number) => Math.round(v * 1e6) / 1e6;

export interface CostedPart {
  part: RunDeviceRow;
  project: string;
  provider: string;
}

/** Sums parts' costs and GPU-hours by project and by provider. Pure. */
export function sumCosts(parts: readonly CostedPart[], now: number): CostReport {
  const add = (
    lines: Map<string, CostLine & { runIds: Set<number> }>,
    key: string,
    p: RunDeviceRow,
    cost: number,
    gpuHours: number,
  ) => {
    const line = lines.get(key) ?? { key, cost: 0, runs: 0, gpuHours: 0, runIds: new Set<number>() };
    line.cost += cost;
    line.gpuHours += gpuHours;
    line.runIds.add(p.run_id);
    lines.set(key, line);
  };
  const byProject = new Map<string, CostLine & { runIds: Set<number> }>();
  const byProvider = new Map<string, CostLine & { runIds: Set<number> }>();
  let total = 0;
  for (const { part, project, provider } of parts) {
    const cost = partCost(part, now);
    const gpuHours = (gpuCountOf(part.gpu_indices_json) * billableMs(part, now)) / HOUR_MS;
    total += cost;
    add(byProject, project, part, cost, gpuHours);
    add(byProvider, provider || "(none)", part, cost, gpuHours);
  }
  const out = (m: Map<string, CostLine & { runIds: Set<number> }>) =>
    [...m.values()]
      .map(({ runIds, ...l }) => ({ ...l, cost: fromMicros(l.cost), gpuHours: round(l.gpuHours), runs: runIds.size }))
      .sort((a, b) => b.cost - a.cost || a.key.localeCompare(b.key));
  return { total: fromMicros(total), byProject: out(byProject), byProvider: out(byProvider) };
}

/** The caller's spending on every run they launched. */
export async function costReport(ctx: ServerContext, ownerId: number): Promise<CostReport> {
  const rows = await ctx.db
    .selectFrom("run_devices")
    .innerJoin("runs", "runs.id", "run_devices.run_id")
    .selectAll("run_devices")
    .select("runs.project_id")
    .where("runs.owner_id", "=", ownerId)
    .execute();
  const devices = await devicesById(
    ctx.db,
    rows.map((r) => r.device_id),
  );
  const projects = await projectNamesById(
    ctx.db,
    rows.map((r) => r.project_id),
  );
  return sumCosts(
    rows.map(({ project_id, ...part }) => ({
      part,
      project: projects.get(project_id) ?? "default",
      provider: devices.get(part.device_id)?.provider ?? "",
    })),
    ctx.now(),
  );
}
