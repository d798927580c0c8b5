/**
 * The unprivileged users jobs run as when the agent is root: a small pool per agent
 * (`fedml-<key>-<n>`), created on first use with useradd and reused. A slot is held by one
 * run at a time, so two live runs never share a user; a run's leftovers cannot outlive it
 * (its cgroup is emptied) and its folder is handed back to root when it ends, so the next
 * holder of the slot finds nothing of it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

export interface JobIdentity {
  name: string;
  uid: number;
  gid: number;
}

/** name -> uid/gid from /etc/passwd text. Pure. */
export function parsePasswd(text: string): Map<string, { uid: number; gid: number }> {
  const users = new Map<string, { uid: number; gid: number }>();
  for (const line of text.split("\n")) {
    const [name, , uid, gid] = line.split(":");
    if (name && uid !== undefined && gid !== undefined) users.set(name, { uid: Number(uid), gid: Number(gid) });
  }
  return users;
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

export class JobUserPool {
  private readonly held = new Set<number>();

  constructor(
    /** Short and unique per agent: user names are at most 32 characters. */
    private readonly prefix: string,
    private readonly passwdFile = "/etc/passwd",
  ) {}

  /** The lowest free slot's user, created if the machine lacks it. */
  acquire(): JobIdentity {
    let slot = 0;
    while (this.held.has(slot)) slot++;
    const identity = this.ensure(`${this.prefix}-${slot}`);
    this.held.add(slot);
    return identity;
  }

  release(identity: JobIdentity): void {
    const slot = Number(identity.name.slice(this.prefix.length + 1));
    this.held.delete(slot);
  }

  private ensure(name: string): JobIdentity {
    const existing = parsePasswd(readFileSync(this.passwdFile, "utf8")).get(name);
    if (existing) return { name, ...existing };
    try {
      execFileSync(
        "useradd",
        ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? "").trim();
      // Another agent of this machine may have made it a moment ago.
      if (!/already exists/.test(stderr))
        throw new Error(`cannot create the job user ${name}: ${stderr || (error as Error).message}`);
    }
    const created = parsePasswd(readFileSync(this.passwdFile, "utf8")).get(name);
    if (!created) throw new Error(`useradd made no user ${name}`);
    return { name, ...created };
  }
}
