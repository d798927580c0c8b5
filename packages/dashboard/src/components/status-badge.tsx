/** A run's (or part's) status with its colour: green done, blue live, amber waiting, red failed, grey stopped. */
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
};

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge tone-${TONES[status] ?? "off"}`}>{status}</span>;
}
