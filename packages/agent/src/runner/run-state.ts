/**
 * What the agent knows of its runs, kept on disk so that a restarted agent can kill what its
 * predecessor left and report how each run ended: `<home>/run-states.jsonl`, one line per
 * change of a run's state, the last line of a run being its state. Appending a line creates
 * no file: a file (or a tmp file renamed over one) per write costs an inode allocation, and on
 * a busy file system that is most of what a short job's bookkeeping costs. A line is written
 * by one write(2) of an O_APPEND file, so a crash of the agent leaves it whole or absent; a
 * torn tail (power loss) is skipped on reading. Ended runs are forgotten a while after the
 * server has their end, and the file is rewritten then (compacted) without them.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { EdgeStatus, TERMINAL_EDGE_STATUSES } from "@fedml/core/statuses";

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

export function runStatesFile(home: string): string {
  return join(home, "run-states.jsonl");
}

/** The file as this process has read it: each run's last state, and how far it has read. */
interface Journal {
  file: string;
  ino: number;
  /** Bytes read (up to the last whole line). */
  size: number;
  lines: number;
  states: Map<string, RunState>;
  /** Open for appending, by this process's writes. */
  fd: number | null;
}

const journals = new Map<string, Journal>();

/** The journal with what other processes (or an earlier agent) appended since it was last read. */
function journalOf(home: string): Journal {
  let journal = journals.get(home);
  // This process appends to it: it is the agent of this home (one per home), the only writer,
  // and its own view is current without a stat per read.
  if (journal?.fd != null) return journal;
  const file = runStatesFile(home);
  let ino = -1;
  let size = 0;
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat) {
    ino = stat.ino;
    size = stat.size;
  }
  if (!journal || journal.ino !== ino || size < journal.size) {
    // Compacted (or removed) by someone else: read it again from the start.
    if (journal?.fd != null) closeSync(journal.fd);
    journal = { file, ino, size: 0, lines: 0, states: new Map(), fd: null };
    journals.set(home, journal);
  }
  if (size > journal.size) readTail(journal, size);
  return journal;
}

function readTail(journal: Journal, size: number): void {
  const fd = openSync(journal.file, "r");
  try {
    const bytes = Buffer.alloc(size - journal.size);
    let got = 0;
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, journal.size + got);
      if (n === 0) break;
      got += n;
    }
    // Only whole lines: a line being appended right now is read next time.
    const end = bytes.lastIndexOf(10, got - 1);
    if (end < 0) return;
    for (const line of bytes.subarray(0, end).toString("utf8").split("\n")) {
      journal.lines++;
      try {
        const state = JSON.parse(line) as RunState;
        if (state && typeof state.runId === "string") journal.states.set(state.runId, state);
      } catch {
        // a line torn by a power loss
      }
    }
    journal.size += end + 1;
  } finally {
    closeSync(fd);
  }
}

function append(home: string, state: RunState): void {
  // This process's own writes keep its view current: only the first one looks at the file.
  let journal = journals.get(home);
  let torn = false;
  if (journal?.fd == null) {
    journal = journalOf(home);
    mkdirSync(home, { recursive: true });
    journal.fd = openSync(journal.file, "a", 0o600);
    const stat = fstatSync(journal.fd);
    journal.ino = stat.ino;
    // Bytes past the last whole line are a torn line: end it, or it would swallow this one.
    torn = stat.size > journal.size;
    journal.size = stat.size;
  }
  const line = `${torn ? "\n" : ""}${JSON.stringify(state)}\n`;
  writeSync(journal.fd as number, line);
  journal.size += Buffer.byteLength(line);
  journal.lines++;
  journal.states.set(state.runId, state);
  if (journal.lines > 4 * journal.states.size + 1024) compact(journal);
}

/** Rewrites the file with each run's last state only (a tmp file renamed over it). */
function compact(journal: Journal): void {
  const text = [...journal.states.values()].map((s) => `${JSON.stringify(s)}\n`).join("");
  const tmp = `${journal.file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, journal.file);
  if (journal.fd !== null) closeSync(journal.fd);
  journal.fd = openSync(journal.file, "a", 0o600);
  const stat = fstatSync(journal.fd);
  journal.ino = stat.ino;
  journal.size = stat.size;
  journal.lines = journal.states.size;
}

/** Changes whenever a state is written (for a reader that waits for activity). */
export function runStatesMark(home: string): string {
  const journal = journalOf(home);
  return `${journal.ino}:${journal.size}`;
}

export function readRunState(home: string, runId: string): RunState | null {
  return journalOf(home).states.get(runId) ?? null;
}

/** Kept for a crash: a restarted agent finds the run in this state. */
export function writeRunState(home: string, state: RunState): RunState {
  runDir(home, state.runId);
  const next = { ...state, updatedTime: Date.now() };
  append(home, next);
  return next;
}

export function updateRunState(home: string, state: RunState, change: Partial<RunState>): RunState {
  return writeRunState(home, { ...state, ...change });
}

export function listRunStates(home: string): RunState[] {
  return [...journalOf(home).states.values()];
}

/** Forgets the runs `forget` picks (their ends are long reported) and compacts the file. Answers how many. */
export function forgetRunStates(home: string, forget: (state: RunState) => boolean): number {
  const journal = journalOf(home);
  let forgotten = 0;
  for (const [runId, state] of journal.states) {
    if (!forget(state)) continue;
    journal.states.delete(runId);
    forgotten++;
  }
  if (forgotten > 0) compact(journal);
  return forgotten;
}

/** An agent of an earlier version kept `runs/<runId>/state.json` files: their states join the journal. */
export function importLegacyStates(home: string): void {
  const dir = runsDir(home);
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const file = join(dir, entry.name, "state.json");
    if (!existsSync(file)) continue;
    try {
      const state = JSON.parse(readFileSync(file, "utf8")) as RunState;
      if (state.runId === entry.name && !readRunState(home, state.runId)) append(home, state);
    } catch {
      // unreadable: nothing to recover from it
    }
    rmSync(file, { force: true });
  }
}
