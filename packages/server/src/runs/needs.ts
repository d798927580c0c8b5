import type { JobSpec } from "@fedml/core";
import type { JobNeeds } from "../scheduler/matcher.js";

export function jobNeeds(spec: JobSpec, resourceId: string | null): JobNeeds {
  return {
    minimumNumGpus: spec.computing.minimumNumGpus,
    resourceType: spec.computing.resourceType,
    deviceType: spec.computing.deviceType,
    maximumCostPerHour: spec.computing.maximumCostPerHour,
    resourceId: resourceId || null,
  };
}
