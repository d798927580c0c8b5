/**
 * What a restarted agent finds in runs/: runs its predecessor did not see end. Their process
 * groups are killed (their output has nowhere to go) and they end FAILED.
 */
import { readFileSync } from "node:fs";
import { EdgeStatus } from "@fedml/core/contract";
import type { Logger } from "../log.js";
import { isGroupAlive, signalGroup } from "../runner/group-signal.js";
import { type RunState, importLegacyStates, isFinalStatus, listRunStates, updateRunState } from "../runner/run-state.js";

export const LOST_RUN_REASON = "the agent restarted and lost the run's process";

/**
 * True unless /proc proves the group leader is some other program (its pid was reused after
 * a reboot). Without /proc, or with the leader gone but members left, the group is ours.
 */
function groupStillBelongsToRun(pgid: number, runId: string): boolean {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pgid}/environ`, "latin1");
  } catch {
    return true;
  }
  return environ.split("\0").includes(`FEDML_CURRENT_RUN_ID=${runId}`);
}

export function killLeftoverGroup(state: RunState, log: Logger): void {
  const pgid = state.pgid;
  if (!pgid || pgid <= 1 || !isGroupAlive(pgid)) return;
  if (!groupStillBelongsToRun(pgid, state.runId)) return;
  log(`run ${state.runId}: killing process group ${pgid} left by the previous agent`);
  signalGroup(pgid, "SIGKILL");
}

/**
 * Ends every unfinished run in the home, except those the backend can follow again (Slurm
 * jobs: `reattachable`); answers the runs that now await a final report, and the reattachable.
 */
export function recoverLeftoverRuns(
  home: string,
  log: Logger,
  canReattach: (state: RunState) => boolean = () => false,
): { unreported: RunState[]; reattachable: RunState[] } {
  const unreported: RunState[] = [];
  const reattachable: RunState[] = [];
  importLegacyStates(home);
  for (const state of listRunStates(home)) {
    if (canReattach(state)) {
      reattachable.push(state);
    } else if (!isFinalStatus(state.status)) {
      killLeftoverGroup(state, log);
      unreported.push(
        updateRunState(home, state, { status: EdgeStatus.FAILED, exitCode: null, reason: LOST_RUN_REASON, reported: false }),
      );
    } else if (!state.reported) {
      unreported.push(state);
    }
  }
  return { unreported, reattachable };
}
