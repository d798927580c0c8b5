/**
 * The agent's lease on its run parts. Each answered assignment poll renews it, counted from
 * when the poll was SENT (the server heard us no earlier), on the monotonic clock, so neither
 * a wall-clock step nor a slow answer stretches it. When it runs out the agent stops its jobs
 * (fencing): the server declares them lost, and may place them elsewhere, only after the
 * lease, the kill grace and a margin, so a retried run never runs twice.
 *
 * The lease is also written to `<home>/lease.json` for the lease watchdog (lease-watchdog.ts),
 * a separate process that kills the jobs when the agent itself cannot (paused, crashed).
 */
import { spawn } from "node:child_process";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isPidAlive } from "@fedml/core/pid";
import { type LeaseFile, type LeaseTerms, leaseFilePath, monotonicNs } from "./lease-file.js";

/**
 * The renewal written is at most this part of the lease behind the agent's own: a fresh write
 * per answered poll (a file each) would cost more than a short job's bookkeeping otherwise.
 */
const PUBLISH_STEP = 20;

export class AgentLease {
  private terms: LeaseTerms | null = null;
  private renewedAtNs: bigint | null = null;
  private publishedAtNs: bigint | null = null;
  private publishedTerms: LeaseTerms | null = null;

  constructor(
    private readonly home: string,
    private readonly now: () => bigint = monotonicNs,
  ) {}

  /** From the server's hello; null (an older server): no lease, nothing is ever fenced. */
  setTerms(terms: LeaseTerms | null): void {
    this.terms = terms;
  }

  get killGraceMs(): number {
    return this.terms?.killGraceMs ?? 0;
  }

  get leaseMs(): number | null {
    return this.terms?.leaseMs ?? null;
  }

  /** A poll sent at `sentAtNs` was answered. */
  renew(sentAtNs: bigint): void {
    if (this.renewedAtNs === null || sentAtNs > this.renewedAtNs) this.renewedAtNs = sentAtNs;
  }

  /** Milliseconds since the last renewal's basis; null before the first. */
  sinceRenewalMs(): number | null {
    return this.renewedAtNs === null ? null : Number(this.now() - this.renewedAtNs) / 1e6;
  }

  expired(): boolean {
    const since = this.sinceRenewalMs();
    return this.terms !== null && since !== null && since > this.terms.leaseMs;
  }

  /**
   * Publishes the lease for the watchdog (atomically: it never reads half a file), unless the
   * one written is less than a twentieth of the lease behind.
   */
  publish(): void {
    if (!this.terms || this.renewedAtNs === null) return;
    const stepNs = BigInt(Math.floor(this.terms.leaseMs / PUBLISH_STEP)) * 1_000_000n;
    if (this.publishedTerms === this.terms && this.publishedAtNs !== null && this.renewedAtNs - this.publishedAtNs < stepNs)
      return;
    this.publishedAtNs = this.renewedAtNs;
    this.publishedTerms = this.terms;
    const file: LeaseFile = {
      ...this.terms,
      agentPid: process.pid,
      renewedAtNs: String(this.renewedAtNs),
    };
    const path = leaseFilePath(this.home);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(file));
    renameSync(tmp, path);
  }

  /** The agent stopped cleanly with no job left: nothing for a watchdog to guard. */
  withdraw(): void {
    this.publishedAtNs = null;
    rmSync(leaseFilePath(this.home), { force: true });
  }
}

/**
 * Starts the lease watchdog unless one already guards this home. Detached, in its own
 * session: a signal meant for the agent (SIGSTOP to its group) does not reach it.
 */
let spawnedPid: number | undefined;

export function ensureLeaseWatchdog(home: string): void {
  // The one we started may not have written its pid file yet.
  if (spawnedPid !== undefined && isPidAlive(spawnedPid)) return;
  try {
    const pid = Number(readFileSync(join(home, "lease-watchdog.pid"), "utf8").trim());
    if (pid > 1 && isPidAlive(pid)) return;
  } catch {}
  const script = fileURLToPath(new URL("./lease-watchdog.js", import.meta.url));
  // With one V8 helper thread instead of four (its GC and compiler work is small) it starts in
  // about a seventh less CPU: one start per busy period of the agent. Not 0, which node reads
  // as one per core less one: 63 threads on a 64-core machine.
  const child = spawn(process.execPath, ["--v8-pool-size=1", script, home], {
    detached: true,
    stdio: "ignore",
    env: watchdogEnv(process.env),
  });
  child.on("error", () => {});
  child.unref();
  spawnedPid = child.pid;
}

/**
 * The agent's environment without what only a client of a server needs: the watchdog speaks
 * to none, and node reads NODE_EXTRA_CA_CERTS's bundle eagerly at start (with a system's
 * whole CA bundle named there, that is about 80 ms of CPU, twice a bare node start).
 */
export function watchdogEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: _, ...rest } = env;
  return rest;
}
