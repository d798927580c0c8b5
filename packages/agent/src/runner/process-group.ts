/**
 * A script run in its own process group, so that a stop or the end of the main process can
 * reach every child it started (`process.kill(-pgid)`). With a run cgroup the reach is every
 * process the script ever started, whatever it did to leave the group, and the script has
 * ended only once the cgroup is empty.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { constants } from "node:os";
import type { RunCgroup } from "./isolation/cgroup.js";
import { withPrivateTmp } from "./isolation/private-tmp.js";
import { signalGroup } from "./group-signal.js";
import { createLineSplitter } from "./line-splitter.js";

/** How long output may still arrive after the group is killed. */
const OUTPUT_DRAIN_MS = 2_000;
const CGROUP_POLL_MS = 20;

/**
 * Where the job cannot be born in its cgroup (RunCgroup.spawnInside), the script waits on
 * its stdin until the agent has moved it into the run cgroup, so not even its first fork
 * happens outside. `$0` is the command to exec once released. Run by
 * `sh`: the gate needs nothing of bash, and a lighter shell starts faster.
 */
const CGROUP_GATE = 'read -r _ || exit 125; exec "$0" "$@" </dev/null';

export type StreamName = "stdout" | "stderr";

export interface ScriptOptions {
  script: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  onLine: (stream: StreamName, text: string) => void;
  /** The unprivileged user to run as (the agent is root). */
  user?: { uid: number; gid: number } | null;
  cgroup?: RunCgroup | null;
  /** Runs this instead of `bash <script>` (a container runtime's command line, a job that needs no shell). */
  command?: string[];
  /** With `user`: this folder becomes the script's /tmp and /var/tmp, in a mount namespace of its own. */
  privateTmp?: string | null;
}

export interface ScriptExit {
  /** Exit status; a signal death is 128 + signal number, as a shell reports it. */
  exitCode: number;
  signal: NodeJS.Signals | null;
}

export interface RunningScript {
  pid: number;
  /** Resolves once the main process has exited, its group is gone and its output is read. */
  exited: Promise<ScriptExit>;
  /** SIGTERM to the group, SIGKILL after graceMs if anything of it is still alive. */
  stop(graceMs: number): void;
}

type Child = ChildProcessByStdio<Writable | null, Readable, Readable>;

/** The job's process, born in its cgroup where the machine allows, else gated (it waits to be moved in). */
function startChild(start: (gated: boolean) => Child, cgroup: RunCgroup | null): { child: Child; gated: boolean } {
  if (!cgroup) return { child: start(false), gated: false };
  let child: Child | undefined;
  try {
    const inside = cgroup.spawnInside(() => {
      child = start(false);
      return child;
    });
    if (inside) return { child: inside, gated: false };
  } catch (error) {
    child?.kill("SIGKILL");
    throw error;
  }
  return { child: start(true), gated: true };
}

/** The job's process as started. */
interface Started {
  pid: number;
  stdout: Readable;
  stderr: Readable;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function refused(error: Error): RunningScript {
  const failed = Promise.reject(error);
  failed.catch(() => {});
  return { pid: -1, exited: failed, stop: () => {} };
}

/** Starts the script in its process group (and cgroup, where the run has one). */
export async function startScript(options: ScriptOptions): Promise<RunningScript> {
  const script = options.command ?? ["bash", options.script];
  const user = options.user ?? null;
  // A private /tmp is mounted as root; the command then drops to the user itself.
  const privateTmp = user && options.privateTmp ? options.privateTmp : null;
  const command = privateTmp && user ? withPrivateTmp(script, privateTmp, user) : script;
  const cgroup = options.cgroup ?? null;
  const start = (gated: boolean): Child => {
    const [file, args] = gated ? ["/bin/sh", ["-c", CGROUP_GATE, ...command]] : [command[0], command.slice(1)];
    return spawn(file, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      // stdin: the cgroup gate's signal; without a gate /dev/null (the job reads EOF), one pipe less per job.
      stdio: [gated ? "pipe" : "ignore", "pipe", "pipe"],
      ...(user && !privateTmp ? { uid: user.uid, gid: user.gid } : {}),
    }) as Child;
  };
  let started: { child: Child; gated: boolean };
  try {
    started = startChild(start, cgroup);
  } catch (error) {
    // Never run a job outside its cgroup (nor the agent in one): its limits and its stop would not hold.
    return refused(new Error(`cannot put the job in its cgroup: ${(error as Error).message}`));
  }
  const { child, gated } = started;
  if (child.pid === undefined) {
    // spawn failed synchronously (bash missing, cwd gone): the 'error' event says why.
    const failed = new Promise<ScriptExit>((_, reject) => child.once("error", reject));
    return { pid: -1, exited: failed, stop: () => {} };
  }
  const pgid = child.pid;
  if (cgroup && gated) {
    try {
      cgroup.join(pgid);
      child.stdin?.end("go\n");
    } catch (error) {
      // Never run a job outside its cgroup: its limits and its stop would not hold.
      child.stdin?.destroy();
      signalGroup(pgid, "SIGKILL");
      return refused(new Error(`cannot put the job in its cgroup: ${(error as Error).message}`));
    }
  }
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  return supervise({ pid: pgid, stdout: child.stdout, stderr: child.stderr, exit }, options, cgroup);
}

/** Reads the job's output, and once its main process has exited ends whatever of it is left. */
function supervise(job: Started, options: ScriptOptions, cgroup: RunCgroup | null): RunningScript {
  const pgid = job.pid;
  let killTimer: NodeJS.Timeout | undefined;
  /** True when the run's cgroup was found empty: nothing left to wait for. */
  const killEverything = (): boolean => {
    signalGroup(pgid, "SIGKILL");
    return cgroup?.killAll() ?? false;
  };

  const streamDone = (name: "stdout" | "stderr") =>
    new Promise<void>((resolve) => {
      const stream = job[name];
      const splitter = createLineSplitter();
      stream.on("data", (chunk: Buffer) => {
        for (const line of splitter.push(chunk)) options.onLine(name, line);
      });
      stream.on("close", () => {
        for (const line of splitter.end()) options.onLine(name, line);
        resolve();
      });
    });
  const outputs = Promise.all([streamDone("stdout"), streamDone("stderr")]);

  const exited = job.exit.then(
    ({ code, signal }) => ended(code, signal),
    (error: Error) => {
      // Its exit can no longer be followed: nothing of it may live on.
      killEverything();
      throw error;
    },
  );
  function ended(code: number | null, signal: NodeJS.Signals | null): Promise<ScriptExit> {
    // Stragglers (`sleep 1000 &`) would keep the pipes open and the GPUs busy: end them.
    const emptied = killEverything();
    if (killTimer) clearTimeout(killTimer);
    const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
    // A grandchild that left the group (setsid) could hold the pipes open forever.
    const outputDeadline = setTimeout(() => {
      job.stdout.destroy();
      job.stderr.destroy();
    }, OUTPUT_DRAIN_MS);
    return Promise.all([outputs, cgroup && !emptied ? untilEmpty(cgroup) : null]).then((): ScriptExit => {
      clearTimeout(outputDeadline);
      return { exitCode, signal };
    });
  }

  return {
    pid: pgid,
    exited,
    stop(graceMs) {
      signalGroup(pgid, "SIGTERM");
      cgroup?.signalAll("SIGTERM");
      if (killTimer) return;
      killTimer = setTimeout(() => killEverything(), graceMs);
      killTimer.unref();
    },
  };
}

/** Kills what is left in the cgroup until nothing is (a process may be mid-fork when signalled). */
async function untilEmpty(cgroup: RunCgroup): Promise<void> {
  while (!cgroup.isEmpty()) {
    cgroup.killAll();
    await new Promise((resolve) => setTimeout(resolve, CGROUP_POLL_MS));
  }
}
