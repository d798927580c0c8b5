import { gpuCountOf } from "../scheduler/capacity.js";
import type { RunDeviceRow } from "../store/runs.js";

const HOUR_MS = 3_600_000;

export type BilledPart = Pick<RunDeviceRow, "started_at" | "ended_at" | "stop_requested_at" | "runtime_ms">;

/**
 * The milliseconds a part is billed for: from its start to its end, cut at the first stop
 * request (the user stops paying when they ask), and never more than the runtime its agent
 * measured on a monotonic clock, so a wall-clock step between start and end bills nothing
 * extra. Pure.
 */
export function billableMs(part: BilledPart, now: number): number {
  if (part.started_at === null) return 0;
  const end = Math.min(part.ended_at ?? now, part.stop_requested_at ?? Number.POSITIVE_INFINITY);
  const span = Math.max(0, end - part.started_at);
  const runtime = part.runtime_ms ?? null;
  return runtime === null ? span : Math.min(span, Math.max(0, runtime));
}

/** A part's cost in whole micro-dollars: its price x its GPUs x the hours it is billed for. Pure. */
export function partCost(
  part: BilledPart & Pick<RunDeviceRow, "price_per_gpu_hour_micros" | "gpu_indices_json">,
  now: number,
): number {
  if (part.price_per_gpu_hour_micros <= 0) return 0;
  return Math.round((part.price_per_gpu_hour_micros * gpuCountOf(part.gpu_indices_json) * billableMs(part, now)) / HOUR_MS);
}
