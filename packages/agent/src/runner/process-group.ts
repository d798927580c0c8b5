/**
 * A script run in its own process group, so that a stop or the end of the main process can
 * reach every child it started (`process.kill(-pgid)`).
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { createLineSplitter } from "./line-splitter.js";

/** How long output may still arrive after the group is killed. */
const OUTPUT_DRAIN_MS = 2_000;

export type StreamName = "stdout" | "stderr";

export interface ScriptOptions {
  script: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  onLine: (stream: StreamName, text: string) => void;
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

export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function isGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function startScript(options: ScriptOptions): RunningScript {
  const child = spawn("bash", [options.script], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) {
    // spawn failed synchronously (bash missing, cwd gone): the 'error' event says why.
    const failed = new Promise<ScriptExit>((_, reject) => child.once("error", reject));
    return { pid: -1, exited: failed, stop: () => {} };
  }
  const pgid = child.pid;
  let killTimer: NodeJS.Timeout | undefined;

  const streamDone = (name: StreamName) =>
    new Promise<void>((resolve) => {
      const stream = child[name];
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

  const exited = new Promise<ScriptExit>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      // Stragglers (`sleep 1000 &`) would keep the pipes open and the GPUs busy: end them.
      signalGroup(pgid, "SIGKILL");
      if (killTimer) clearTimeout(killTimer);
      const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      // A grandchild that left the group (setsid) could hold the pipes open forever.
      const outputDeadline = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, OUTPUT_DRAIN_MS);
      outputs.then(() => {
        clearTimeout(outputDeadline);
        resolve({ exitCode, signal });
      });
    });
  });

  return {
    pid: pgid,
    exited,
    stop(graceMs) {
      signalGroup(pgid, "SIGTERM");
      if (killTimer) return;
      killTimer = setTimeout(() => signalGroup(pgid, "SIGKILL"), graceMs);
      killTimer.unref();
    },
  };
}
