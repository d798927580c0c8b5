import { FedmlError, type JobSpec, ResultCode } from "@fedml/core";

/** Our keys under `computing` (kept in `extra` by the core parser). */
export interface QueueOptions {
  /** `computing.priority`: whole number, higher is placed first; default 0. */
  priority: number;
  /** `computing.retry.limit`: times a run starts again elsewhere after losing a device; default 0. */
  retryLimit: number;
}

function wholeNumber(value: unknown, key: string, min: number, max: number): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) return value;
  throw new FedmlError(
    ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
    `computing.${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    400,
  );
}

/** Reads and checks `computing.priority` and `computing.retry` ({limit: N} or N). Pure. */
export function queueOptions(spec: JobSpec): QueueOptions {
  const extra = spec.computing.extra ?? {};
  const priority =
    extra.priority === undefined || extra.priority === null ? 0 : wholeNumber(extra.priority, "priority", -1000, 1000);
  const retry = extra.retry;
  let retryLimit = 0;
  if (retry !== undefined && retry !== null) {
    const limit = typeof retry === "object" && !Array.isArray(retry) ? (retry as Record<string, unknown>).limit : retry;
    retryLimit = wholeNumber(limit, "retry.limit", 0, 100);
  }
  return { priority, retryLimit };
}
