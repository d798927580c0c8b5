/** How many replicas an endpoint wants now. Pure. */
export interface ScaleInput {
  minReplicas: number;
  maxReplicas: number;
  /** In-flight requests per replica to aim at; null: not on requests in flight. */
  targetInflight: number | null;
  /** Requests per second per replica to aim at; null: not on rate. Neither: no autoscaling beyond waking from zero. */
  targetRps: number | null;
  /** The current target. */
  desired: number;
  /** Most requests in flight at once since the last decision. */
  peakInflight: number;
  /** Requests that arrived per second since the last decision. */
  requestsPerSecond: number;
  /** Last time the load needed `desired` replicas (or more). */
  busyAt: number;
  scaleDownDelayMs: number;
  now: number;
}

export function decideReplicas(input: ScaleInput): { desired: number; busyAt: number } {
  const { minReplicas: min, maxReplicas: max } = input;
  const { targetInflight, targetRps } = input;
  // The larger of the two needs when both targets are set: either load alone can swamp a replica.
  const load =
    targetInflight === null && targetRps === null
      ? input.peakInflight > 0 || input.requestsPerSecond > 0
        ? 1
        : 0
      : Math.max(
          targetInflight === null ? 0 : Math.ceil(input.peakInflight / targetInflight),
          targetRps === null ? 0 : Math.ceil(input.requestsPerSecond / targetRps),
        );
  const need = Math.min(max, Math.max(min, load));
  // Up at once; down only after the load has stayed lower for the whole delay.
  if (need >= input.desired) return { desired: need, busyAt: input.now };
  if (input.now - input.busyAt >= input.scaleDownDelayMs) return { desired: need, busyAt: input.now };
  return { desired: input.desired, busyAt: input.busyAt };
}
