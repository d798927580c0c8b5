import { type DryRunResponse, type LaunchRequest, type MatchedOffer, ResultCode, ResultMessage, fromMicros } from "@fedml/core";
import type { ServerContext } from "../context.js";
import { type CandidateDevice, type JobNeeds, matchJob } from "../scheduler/matcher.js";
import { gpusWanted } from "../scheduler/job-needs.js";
import { containerStep, mayUseStep, offerStep, pinStep } from "../scheduler/steps.js";
import { creditStanding } from "../billing/standing.js";
import type { UserRow } from "../store/users.js";
import { jobNeeds } from "../scheduler/job-needs.js";

const codeOf = {
  placed: ResultCode.LAUNCH_JOB_STATUS_REQUEST_SUCCESS,
  queued: ResultCode.RESOURCE_MATCHED_STATUS_QUEUED,
  no_resources: ResultCode.RESOURCE_MATCHED_STATUS_NO_RESOURCES,
  blocked: ResultCode.RESOURCE_MATCHED_STATUS_BLOCKED,
} as const;

/** Devices that could serve the job (type, pin, who may use them), cheapest first. Pure. */
export function listOffers(needs: JobNeeds, candidates: readonly CandidateDevice[]): MatchedOffer[] {
  const n = gpusWanted(needs);
  return offerStep(needs, containerStep(needs, mayUseStep(needs, pinStep(needs, candidates))))
    .filter((o) => o.device.maxJobs >= 1 && (n === 0 || o.matchingAll.length > 0))
    .sort(
      (a, b) =>
        a.pricePerGpuHour - b.pricePerGpuHour ||
        b.matchingFree.length - a.matchingFree.length ||
        Number(a.device.deviceId) - Number(b.device.deviceId),
    )
    .map((o) => {
      const first = o.device.gpus.find((g) => g.index === o.matchingAll[0]);
      const gpuName = first?.name ?? "";
      return {
        id: o.device.deviceId,
        name: o.device.name,
        gpuVendor: /nvidia|geforce|tesla|rtx|a100|h100/i.test(gpuName) ? "NVIDIA" : gpuName ? gpuName.split(/\s+/)[0] : "",
        gpuType: needs.resourceType ?? gpuName,
        gpuName,
        totalGpuCount: o.matchingAll.length,
        gotGpuCount: o.device.freeSlots >= 1 ? o.matchingFree.length : 0,
        gpuMem: Math.round(((first?.memoryMiB ?? 0) / 1024) * 10) / 10,
        gpuRegion: o.device.region ?? "",
        gpuProvider: o.device.provider ?? "",
        cpuCount: 0,
        cost: fromMicros(o.pricePerGpuHour),
        simulated: o.device.simulated === true,
        shared: o.device.shared === true,
      };
    });
}

/** What a launch would do now, and every offer that fits the job; nothing is stored. */
export async function dryRun(ctx: ServerContext, user: UserRow, request: LaunchRequest): Promise<DryRunResponse> {
  const spec = await ctx.jobYaml.parse(request.yamlText, { path: request.yamlPath ?? "job.yaml" });
  const needs = {
    ...jobNeeds(spec, request.resourceId ? String(request.resourceId) : null, user.id),
    credit: await creditStanding(ctx.db, user.id),
  };
  const candidates = await ctx.placement.candidatesFor(ctx.db, user.id);
  const verdict = matchJob(needs, candidates);
  const cpus = new Map(
    (await ctx.db.selectFrom("devices").select(["id", "cpu_count"]).execute()).map((d) => [String(d.id), d.cpu_count]),
  );
  const offers = listOffers(needs, candidates).map((o) => ({ ...o, cpuCount: cpus.get(o.id) ?? 0 }));
  const code =
    verdict.kind === "credit"
      ? verdict.need === "bind_card"
        ? ResultCode.RESOURCE_MATCHED_STATUS_BIND_CREDIT_CARD_FIRST
        : ResultCode.USER_BALANCE_NOT_ENOUGH
      : codeOf[verdict.kind];
  const name = ResultMessage[code] ?? "ERROR";
  return {
    resultCode: code,
    resultMsg: verdict.kind === "placed" ? name : `${name}: ${verdict.reason}`,
    offers,
    placement:
      verdict.kind === "placed" ? verdict.nodes.map((n) => ({ ...n, pricePerGpuHour: fromMicros(n.pricePerGpuHour) })) : [],
    pricePerHour: verdict.kind === "placed" ? fromMicros(verdict.pricePerHour) : 0,
  };
}
