import type { ServingArgs } from "@fedml/core";

/** An endpoint's service settings, from `serving_args`. */
export interface EndpointSettings {
  minReplicas: number;
  maxReplicas: number;
  /** In-flight requests per ready replica the autoscaler aims at; null: fixed count (min). */
  targetInflight: number | null;
  /** Requests per second per ready replica the autoscaler aims at; null: not on rate. */
  targetRps: number | null;
  scaleDownDelayMs: number;
  probePath: string;
  probeIntervalMs: number;
}

const DEFAULT_SCALE_DOWN_DELAY_MS = 60_000;

/** Pure. Without autoscaling the endpoint keeps `min_replicas` (or `replicas`) running. */
export function endpointSettings(args: ServingArgs | null): EndpointSettings {
  const min = args?.minReplicas ?? (args?.maxReplicas != null ? Math.min(1, args.maxReplicas) : 1);
  const max = Math.max(min, args?.maxReplicas ?? min);
  return {
    minReplicas: min,
    maxReplicas: max,
    targetInflight: args?.targetInflightRequests ?? null,
    targetRps: args?.targetRequestsPerSecond ?? null,
    scaleDownDelayMs: args?.scaleDownDelaySeconds != null ? args.scaleDownDelaySeconds * 1000 : DEFAULT_SCALE_DOWN_DELAY_MS,
    probePath: args?.readinessProbePath ?? "/",
    probeIntervalMs: (args?.readinessProbeIntervalSeconds ?? 1) * 1000,
  };
}

/** Replicas a fresh endpoint (or a new generation) starts with: at least the one just launched. */
export function initialReplicas(settings: EndpointSettings): number {
  return Math.max(1, settings.minReplicas);
}
