/**
 * A status with its colour: green done or ready, blue live, amber waiting, red failed, grey
 * stopped. Runs and their parts, and the devices', clusters', endpoints' and replicas' statuses.
 */
const TONES: Record<string, string> = {
  FINISHED: "ok",
  RUNNING: "live",
  STARTING: "live",
  INITIALIZING: "live",
  TRAINING: "live",
  PROVISIONING: "live",
  LAUNCHED: "live",
  QUEUED: "wait",
  CLUSTER_QUEUE: "wait",
  PRE_QUEUE: "wait",
  NOT_STARTED: "wait",
  STOPPING: "wait",
  FAILED: "bad",
  ERROR: "bad",
  EXCEPTION: "bad",
  INVALID: "bad",
  ABANDONED: "bad",
  KILLED: "off",
  READY: "ok",
  IDLE: "ok",
  DEPLOYING: "live",
  UNHEALTHY: "bad",
  DRAINING: "wait",
};

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge tone-${TONES[status] ?? "off"}`}>{status}</span>;
}
