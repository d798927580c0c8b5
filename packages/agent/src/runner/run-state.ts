/**
 * `<home>/runs/<runId>/state.json`: what the agent knows of a run, kept on disk so that a
 * restarted agent can kill what its predecessor left and report how the run ended.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EdgeStatus, TERMINAL_EDGE_STATUSES } from "@fedml/core/contract";

export interface RunState {
  runId: string;
  /** An EdgeStatus. */
  status: string;
  /** The main process of the current script; its pid is also its process group id. */
  pid: number | null;
  pgid: number | null;
  exitCode: number | null;
  reason: string | null;
  /** The final status has been accepted by the server. */
  reported: boolean;
  updatedTime: number;
  /** Runs on a Slurm device: its job, so that a restarted agent follows it again. */
  slurm?: SlurmRecord | null;
}

export interface SlurmRecord {
  /** Null until sbatch has answered. */
  jobId: string | null;
  /** The run's folder on the shared file system (batch script, output files). */
  dir: string;
  /** The last log line the server has acknowledged, and where in the output files it ended. */
  logSeq: number;
  outOffset: number;
  errOffset: number;
}

export function runsDir(home: string): string {
  return join(home, "runs");
}

/** Run ids come from the server; keep them from naming a path outside runs/. */
export function runDir(home: string, runId: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(runId) || runId === "." || runId === "..") {
    throw new Error(`run id "${runId}" cannot name a folder`);
  }
  return join(runsDir(home), runId);
}

export function isFinalStatus(status: string): boolean {
  return TERMINAL_EDGE_STATUSES.has(status);
}

export function initialRunState(runId: string): RunState {
  return {
    runId,
    status: EdgeStatus.INITIALIZING,
    pid: null,
    pgid: null,
    exitCode: null,
    reason: null,
    reported: false,
    updatedTime: Date.now(),
  };
}

export function readRunState(home: string, runId: string): RunState | null {
  const file = join(runDir(home, runId), "state.json");
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as RunState;
  } catch {
    return null;
  }
}

/** Written atomically: a crash mid-write must not leave a run without a readable state. */
export function writeRunState(home: string, state: RunState): RunState {
  mkdirSync(runDir(home, state.runId), { recursive: true });
  return writeStateFile(home, state);
}

/** A run's later states: its folder is there already (made again should something have removed it). */
export function updateRunState(home: string, state: RunState, change: Partial<RunState>): RunState {
  try {
    return writeStateFile(home, { ...state, ...change });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    return writeRunState(home, { ...state, ...change });
  }
}

function writeStateFile(home: string, state: RunState): RunState {
  const file = join(runDir(home, state.runId), "state.json");
  const next = { ...state, updatedTime: Date.now() };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(next)}\n`);
  renameSync(`${file}.tmp`, file);
  return next;
}

export function listRunStates(home: string): RunState[] {
  const dir = runsDir(home);
  if (!existsSync(dir)) return [];
  const states: RunState[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const state = readRunState(home, entry.name);
    if (state) states.push(state);
  }
  return states;
}
