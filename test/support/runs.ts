import { api } from "fedml";
import { waitFor } from "./wait.js";

/** Who calls the SDK in a test: a server and a user's API key. */
export interface Caller {
  serverUrl: string;
  apiKey: string;
}

export const ENDED_STATUSES = ["FINISHED", "FAILED", "KILLED"];

/** Polls the run through the SDK until its status is one of `statuses`; answers the run. */
export function waitForRunStatus(runId: string, statuses: readonly string[], caller: Caller, timeoutMs = 30_000) {
  return waitFor(
    `run ${runId} in ${statuses.join("/")}`,
    async () => {
      const run = (await api.runStatus(null, runId, caller)).runList.runList[0];
      return run && statuses.includes(run.status) ? run : undefined;
    },
    timeoutMs,
    100,
  );
}

/** Polls the run through the SDK until it has ended; answers the run. */
export function waitForRunEnd(runId: string, caller: Caller, timeoutMs = 30_000) {
  return waitForRunStatus(runId, ENDED_STATUSES, caller, timeoutMs);
}
