import { FedmlError, type JobSpec, ResultCode } from "@fedml/core";

/**
 * `computing.num_edges`: how many edge devices the matcher picks for a federated job when the
 * launch names none. Null (absent) means every device that fits now, at least one.
 */
export function numEdgesOf(spec: Pick<JobSpec, "computing">): number | null {
  const value = spec.computing.extra.num_edges;
  if (value === undefined || value === null) return null;
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `computing.num_edges must be a whole number >= 1, got ${JSON.stringify(value)}`,
      400,
    );
  }
  return n;
}
