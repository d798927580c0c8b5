import { FedmlError, type JobSpec, type Platform, ResultCode, normalizePlatform } from "@fedml/core";

/** Federated subtypes map to the platform the original runs them on; cross_silo (the default) is octopus. */
const FEDERATE_PLATFORMS: Readonly<Record<string, Platform>> = {
  cross_silo: "octopus",
  simulation: "parrot",
  web: "spider",
  smart_phone: "beehive",
};

/** The platform a run is recorded under: every non-federated job is the launch scheduler's (falcon). Pure. */
export function platformOfJob(spec: Pick<JobSpec, "jobType" | "jobSubtype">): Platform {
  if (spec.jobType !== "federate") return "falcon";
  return FEDERATE_PLATFORMS[spec.jobSubtype ?? "cross_silo"] ?? "octopus";
}

/**
 * The platform filter of runList/runStatus/runStop/runLogs: absent means every run; a given
 * name is normalised as the original does (launch = falcon, unknown names fall back to falcon).
 */
export function platformFilter(value: string | undefined | null): Platform | null {
  return value === undefined || value === null || value === "" ? null : normalizePlatform(value);
}

/** runStop/runLogs/runStatus on a run of another platform answer as for an unknown run. */
export function assertOnPlatform(run: { id: number; platform: string }, requested: string | undefined | null): void {
  const platform = platformFilter(requested);
  if (platform !== null && run.platform !== platform) {
    throw new FedmlError(
      ResultCode.JOB_NOT_EXISTS,
      `run ${run.id} not found on platform ${platform} (it runs on ${run.platform})`,
      404,
    );
  }
}
