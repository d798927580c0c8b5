/**
 * Starts jobs through a small long-lived helper process (spawner-script.ts) instead of forking
 * the agent itself: the job's fork costs the helper a few hundred microseconds where the agent's
 * own fork (its page tables, then copy-on-write faults) costs it about a millisecond, and the
 * agent's event loop no longer waits while the child execs. The job gets everything the agent
 * would give it (own session and process group, cgroup before its first instruction, user, env,
 * cwd, /dev/null stdin), and its stdout and stderr reach the agent through a fifo pair per job
 * slot in a folder only the agent can enter, with a pipe's end-of-output semantics.
 */
import { type ChildProcessByStdio, execFileSync, spawn } from "node:child_process";
import { closeSync, constants, mkdirSync, openSync, rmSync, unlinkSync } from "node:fs";
import { Socket } from "node:net";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { SPAWNER_SCRIPT } from "./spawner-script.js";

export interface SpawnRequest {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  user: { uid: number; gid: number } | null;
  /** Files the job writes its pid into before it runs (the run's cgroup.procs / tasks). */
  cgroupFiles: string[];
}

export interface SpawnedJob {
  /** The job's pid, also its process group and session; rejects when it did not start. */
  pid: Promise<number>;
  stdout: Readable;
  stderr: Readable;
  /**
   * Resolves when the job's main process has exited (code, or the signal that killed it);
   * rejects when that process could not become the job (a cgroup, user or program refused).
   */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The output was abandoned before its end (a process that left the run still holds it). */
  abandon(): void;
}

interface Pending {
  /** Its output will never come (it was not forked): the read ends go, and the slot with them. */
  discard: () => void;
  started: (pid: number) => void;
  refused: (error: Error) => void;
  exited: (exit: { code: number | null; signal: NodeJS.Signals | null }) => void;
  failedExit: (error: Error) => void;
  /** Why its process did not become the job (told before its exit). */
  failure?: Error;
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(osConstants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/** One request: the count of fields, then each field, all NUL-terminated. Pure. */
export function encodeRequest(id: string, stdoutFifo: string, stderrFifo: string, request: SpawnRequest): string {
  const env = Object.entries(request.env).map(([name, value]) => `${name}=${value}`);
  const fields = [
    id,
    stdoutFifo,
    stderrFifo,
    request.cwd,
    request.user ? String(request.user.uid) : "",
    request.user ? String(request.user.gid) : "",
    String(request.cgroupFiles.length),
    ...request.cgroupFiles,
    String(env.length),
    ...env,
    ...request.argv,
  ];
  for (const field of fields) {
    // As child_process.spawn refuses them: a NUL cannot be in an argument or a variable.
    if (field.includes("\0")) throw new Error("an argument or environment value of the job holds a NUL byte");
  }
  return `${fields.length}\0${fields.map((f) => `${f}\0`).join("")}`;
}

export class JobSpawner {
  private readonly pending = new Map<string, Pending>();
  private readonly freeSlots: number[] = [];
  private slotCount = 0;
  private nextId = 1;
  private answerBuffer = "";
  private dead: Error | null = null;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly fifoDir: string,
  ) {
    // The helper keeps the process alive only while it has jobs to tell about.
    child.unref();
    (child.stdout as Socket).unref();
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => this.onAnswers(text));
    child.stdin.on("error", () => {});
    child.once("exit", (code, signal) => this.onDeath(new Error(`the job spawner ended (${signal ?? `code ${code}`})`)));
    child.once("error", (error) => this.onDeath(error));
  }

  /**
   * A spawner whose fifos live in `fifoDir` (made afresh: leftovers of an earlier agent are
   * not reused), or null where it cannot run here (not Linux, no perl): jobs are then forked
   * by the agent itself.
   */
  static start(fifoDir: string): JobSpawner | null {
    if (process.platform !== "linux") return null;
    try {
      rmSync(fifoDir, { recursive: true, force: true });
      mkdirSync(fifoDir, { recursive: true, mode: 0o700 });
      execFileSync("perl", ["-MPOSIX", "-e", "1"], { stdio: "ignore", timeout: 10_000 });
    } catch {
      return null;
    }
    // No environment of the agent's: the jobs get theirs with each request.
    const child = spawn("perl", ["-e", SPAWNER_SCRIPT], {
      stdio: ["pipe", "pipe", "inherit"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
    if (child.pid === undefined) return null;
    return new JobSpawner(child, fifoDir);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  spawn(request: SpawnRequest): SpawnedJob {
    if (this.dead) throw this.dead;
    const slot = this.takeSlot();
    const [outFifo, errFifo] = this.fifos(slot);
    const id = String(this.nextId++);
    // Read ends first: the spawner's write opens then never block, and nothing written is lost.
    const stdout = openFifo(outFifo);
    const stderr = openFifo(errFifo);
    let abandoned = false;
    let open = 2;
    const closed = () => {
      if (--open > 0) return;
      // Both ends seen: no process holds the slot's fifos any more, the next job may have them.
      if (abandoned) this.dropSlot(slot);
      else this.freeSlots.push(slot);
    };
    stdout.once("close", closed);
    stderr.once("close", closed);
    let started!: (pid: number) => void;
    let refused!: (error: Error) => void;
    let exited!: Pending["exited"];
    const pid = new Promise<number>((resolve, reject) => {
      started = resolve;
      refused = reject;
    });
    pid.catch(() => {});
    let failedExit!: (error: Error) => void;
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      exited = resolve;
      failedExit = reject;
    });
    exit.catch(() => {});
    const discard = () => {
      abandoned = true;
      stdout.destroy();
      stderr.destroy();
    };
    if (this.pending.size === 0) (this.child.stdout as Socket).ref();
    this.pending.set(id, { discard, started, refused, exited, failedExit });
    try {
      this.child.stdin.write(encodeRequest(id, outFifo, errFifo, request));
    } catch (error) {
      this.forget(id);
      stdout.destroy();
      stderr.destroy();
      throw error;
    }
    return {
      pid,
      stdout,
      stderr,
      exit,
      abandon: () => {
        abandoned = true;
      },
    };
  }

  /** Ends the helper (the agent is stopping); jobs still running carry on. */
  close(): void {
    this.child.stdin.end();
    rmSync(this.fifoDir, { recursive: true, force: true });
  }

  private takeSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    // mkfifo once per slot: a slot is reused for job after job.
    const slot = this.slotCount++;
    execFileSync("mkfifo", ["-m", "600", ...this.fifos(slot)], { stdio: "ignore" });
    return slot;
  }

  /** A slot whose fifos a stray process may still hold: never given to another job. */
  private dropSlot(slot: number): void {
    for (const fifo of this.fifos(slot)) {
      try {
        unlinkSync(fifo);
      } catch {}
    }
  }

  private fifos(slot: number): [string, string] {
    return [join(this.fifoDir, `${slot}.out`), join(this.fifoDir, `${slot}.err`)];
  }

  private forget(id: string): void {
    this.pending.delete(id);
    if (this.pending.size === 0) (this.child.stdout as Socket).unref();
  }

  private onAnswers(text: string): void {
    this.answerBuffer += text;
    for (let end = this.answerBuffer.indexOf("\n"); end >= 0; end = this.answerBuffer.indexOf("\n")) {
      const line = this.answerBuffer.slice(0, end);
      this.answerBuffer = this.answerBuffer.slice(end + 1);
      const [kind, id, ...rest] = line.split(" ");
      const job = this.pending.get(id);
      if (!job) continue;
      if (kind === "pid") {
        job.started(Number(rest[0]));
      } else if (kind === "exit") {
        this.forget(id);
        const [code, signal] = rest;
        // Refused before it was told: no pid to stop, nothing of the job ran.
        job.refused(job.failure ?? new Error("the job's process ended before it could start the job"));
        if (job.failure) job.failedExit(job.failure);
        else job.exited(code !== "" ? { code: Number(code), signal: null } : { code: null, signal: signalName(Number(signal)) });
      } else if (kind === "error") {
        // Its process could not become the job (and ran nothing of it): its exit follows.
        job.failure = new Error(rest.join(" "));
      } else if (kind === "refused") {
        // Not forked: no process will ever write to its fifos, nor exit.
        this.forget(id);
        const error = new Error(rest.join(" "));
        job.refused(error);
        job.discard();
        job.failedExit(error);
      }
    }
  }

  private onDeath(error: Error): void {
    if (this.dead) return;
    this.dead = error;
    // Their exits will never be told: the runs end failed rather than hang.
    for (const job of this.pending.values()) {
      job.refused(error);
      job.failedExit(error);
    }
    this.pending.clear();
  }
}

function openFifo(path: string): Socket {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    return new Socket({ fd, readable: true, writable: false });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function signalName(number: number): NodeJS.Signals {
  return SIGNAL_NAMES.get(number) ?? "SIGKILL";
}
