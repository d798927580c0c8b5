/**
 * A cgroup per run: every process the job starts stays in it whatever it does to leave its
 * process group (setsid, double fork), so a stop can freeze and kill all of them and the run
 * ends only once the cgroup is empty. Memory and CPU limits are set on it, and the kernel's
 * OOM counter says when the job was killed for memory.
 *
 * cgroup v2 is used where it is mounted with the memory and pids controllers; otherwise the
 * v1 freezer, pids, memory and cpu hierarchies (a "hybrid" machine often has a v2 mount with
 * no controllers). The agent's runs live under the agent's own cgroup in each hierarchy, so
 * a limit on the agent (a container, a systemd unit) still bounds its jobs. An owner may name
 * a cgroup v2 directory instead (`--cgroup-root`): v2's core (cgroup.procs, cgroup.kill,
 * cgroup.freeze) needs no controller, so stop works there in any case, and each limit is
 * enforced where its controller is enabled (and said not to be where it is not).
 */
import { mkdirSync, readFileSync, readdirSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

export interface RunLimits {
  /** Bytes of RAM (plus swap where the kernel accounts it); null: no limit of ours. */
  memoryBytes: number | null;
  /** CPUs' worth of time per period (1.5 = one and a half cores); null: no limit. */
  cpus: number | null;
}

/** Most processes (threads) one run may have: a fork bomb stops here, not at the machine's limit. */
export const MAX_RUN_PROCESSES = 32_768;

/** Which v2 controllers the runs' cgroups have. */
export interface V2Controllers {
  memory: boolean;
  pids: boolean;
  cpu: boolean;
}

export type CgroupLayout =
  | { version: 2; parent: string; controllers: V2Controllers }
  | {
      version: 1;
      parents: { freezer: string; pids: string; memory: string; cpu: string | null };
      /** The same parent in every other hierarchy, where a container runtime's runs may leave folders. */
      others: string[];
      /** The runs' parent relative to each hierarchy's root: one path for all (a runtime's `--cgroup-parent`). */
      relative: string;
      /** The agent's own freezer and pids cgroups, where its thread returns after starting a job from a run's. */
      own?: { freezer: string; pids: string };
    }
  | { version: 0; why: string };

interface MountedHierarchy {
  mountPoint: string;
  /** Controllers named in the mount options (v1); empty for cgroup2. */
  controllers: string[];
  v2: boolean;
}

/** The cgroup mounts from /proc/self/mounts text. Pure. */
export function parseCgroupMounts(mounts: string): MountedHierarchy[] {
  const out: MountedHierarchy[] = [];
  for (const line of mounts.split("\n")) {
    const [, mountPoint, type, options] = line.split(" ");
    if (type === "cgroup2") out.push({ mountPoint, controllers: [], v2: true });
    else if (type === "cgroup") out.push({ mountPoint, controllers: (options ?? "").split(","), v2: false });
  }
  return out;
}

/** controller (or "" for v2) -> this process's path in that hierarchy, from /proc/self/cgroup. Pure. */
export function parseOwnCgroups(text: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of text.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    for (const name of match[1] === "" ? [""] : match[1].split(",")) own.set(name, match[2]);
  }
  return own;
}

function writable(dir: string): boolean {
  try {
    const probe = join(dir, `fedml-probe-${process.pid}`);
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where this agent may make run cgroups, or why it cannot. `agentKey` separates the runs of
 * several agents on one machine.
 */
export function detectCgroupLayout(agentKey: string, procRoot = "/proc/self"): CgroupLayout {
  let mounts: MountedHierarchy[];
  let own: Map<string, string>;
  try {
    mounts = parseCgroupMounts(readFileSync(`${procRoot}/mounts`, "utf8"));
    own = parseOwnCgroups(readFileSync(`${procRoot}/cgroup`, "utf8"));
  } catch (error) {
    return { version: 0, why: `cannot read the cgroup mounts: ${(error as Error).message}` };
  }
  const v2 = mounts.find((m) => m.v2);
  if (v2 && own.has("")) {
    const base = join(v2.mountPoint, own.get("") ?? "/");
    const controllers = readOr(join(base, "cgroup.controllers"), "").split(/\s+/);
    if (controllers.includes("memory") && controllers.includes("pids") && writable(base)) {
      const parent = join(base, `fedml-${agentKey}`);
      if (prepareV2Parent(base, parent)) return { version: 2, parent, controllers: enabledIn(parent) };
    }
  }
  // One path in every hierarchy (the agent's memory cgroup's, where the limits that bound the
  // agent are), so that a container runtime told `--cgroup-parent` puts the container's
  // processes under the run in all of them.
  const relative = join(own.get("memory") ?? own.get("freezer") ?? "/", `fedml-${agentKey}`);
  const v1 = (controller: string): string | null => {
    const mount = mounts.find((m) => !m.v2 && m.controllers.includes(controller));
    if (!mount || !own.has(controller)) return null;
    const base = join(mount.mountPoint, relative, "..");
    try {
      mkdirSync(base, { recursive: true });
    } catch {
      return null;
    }
    return writable(base) ? join(mount.mountPoint, relative) : null;
  };
  const freezer = v1("freezer");
  const pids = v1("pids");
  const memory = v1("memory");
  if (freezer && pids && memory) {
    const parents = { freezer, pids, memory, cpu: v1("cpu") };
    const ours = new Set(Object.values(parents));
    const others = mounts.map((m) => join(m.mountPoint, relative)).filter((p) => !ours.has(p));
    const ownDir = (controller: string) => {
      const mount = mounts.find((m) => !m.v2 && m.controllers.includes(controller));
      return mount ? join(mount.mountPoint, own.get(controller) ?? "/") : null;
    };
    const [ownFreezer, ownPids] = [ownDir("freezer"), ownDir("pids")];
    return {
      version: 1,
      parents,
      others,
      relative,
      ...(ownFreezer && ownPids ? { own: { freezer: ownFreezer, pids: ownPids } } : {}),
    };
  }
  const missing = [freezer ? "" : "freezer", pids ? "" : "pids", memory ? "" : "memory"].filter(Boolean).join(", ");
  return {
    version: 0,
    why: v2
      ? `cgroup v2 lacks the memory/pids controllers or is not writable, and the v1 ${missing} hierarchies are not writable`
      : `the v1 ${missing} cgroup hierarchies are missing or not writable`,
  };
}

/**
 * The runs' cgroups under `root`, a directory in a cgroup v2 mount (made if missing), with
 * whichever of the memory, pids and cpu controllers can be enabled down to it.
 */
export function cgroupLayoutAt(root: string, agentKey: string, procRoot = "/proc/self"): CgroupLayout {
  let mounts: MountedHierarchy[];
  try {
    mounts = parseCgroupMounts(readFileSync(`${procRoot}/mounts`, "utf8"));
  } catch (error) {
    return { version: 0, why: `cannot read the cgroup mounts: ${(error as Error).message}` };
  }
  const mount = mounts
    .filter((m) => m.v2 && (root === m.mountPoint || root.startsWith(`${m.mountPoint}/`)))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length)[0];
  if (!mount) return { version: 0, why: `--cgroup-root ${root} is not inside a cgroup v2 mount` };
  const parent = join(root, `fedml-${agentKey}`);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (error) {
    return { version: 0, why: `cannot make ${parent}: ${(error as Error).message}` };
  }
  // Enable each controller from the mount down to the runs' parent; where a level refuses
  // (not offered, or that level holds processes of its own) the runs go without it.
  const levels = [mount.mountPoint];
  for (const part of parent.slice(mount.mountPoint.length).split("/").filter(Boolean))
    levels.push(join(levels.at(-1) ?? "", part));
  for (const controller of ["memory", "pids", "cpu"]) {
    for (const level of levels) if (!tryWrite(join(level, "cgroup.subtree_control"), `+${controller}`)) break;
  }
  return { version: 2, parent, controllers: enabledIn(parent) };
}

function enabledIn(parent: string): V2Controllers {
  const enabled = readOr(join(parent, "cgroup.subtree_control"), "").split(/\s+/);
  return { memory: enabled.includes("memory"), pids: enabled.includes("pids"), cpu: enabled.includes("cpu") };
}

/** What the agent says at start about limits under `layout`. Pure. */
export function limitsNote(layout: Exclude<CgroupLayout, { version: 0 }>): string {
  if (layout.version === 1) return "memory and CPU limits enforced";
  const missing = (["memory", "cpu", "pids"] as const).filter((c) => !layout.controllers[c]);
  if (missing.length === 0) return "memory and CPU limits enforced";
  return `no ${missing.join(", ")} controller at ${layout.parent}: ${missing
    .map((c) => (c === "memory" ? "computing.memory" : c === "cpu" ? "computing.cpus" : "the process cap"))
    .join(", ")} not enforced`;
}

/**
 * v2 runs controllers only for children of a cgroup without processes of its own (except
 * the root): the runs get a parent of their own with memory, pids and cpu enabled.
 */
function prepareV2Parent(base: string, parent: string): boolean {
  try {
    const enabled = readOr(join(base, "cgroup.subtree_control"), "").split(/\s+/);
    if (!enabled.includes("memory") || !enabled.includes("pids"))
      writeFileSync(join(base, "cgroup.subtree_control"), "+memory +pids");
    tryWrite(join(base, "cgroup.subtree_control"), "+cpu");
    mkdirSync(parent, { recursive: true });
    writeFileSync(join(parent, "cgroup.subtree_control"), "+memory +pids");
    tryWrite(join(parent, "cgroup.subtree_control"), "+cpu");
    return true;
  } catch {
    return false;
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

function tryWrite(file: string, value: string): boolean {
  try {
    writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

function pidsIn(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    for (const line of readOr(join(d, "cgroup.procs"), "").split("\n")) if (line.trim()) pids.push(Number(line));
    // A cgroup's link count is 2 plus its child cgroups: most runs have none (only a container
    // runtime or the job itself makes some), and a stat costs less than listing the folder.
    if (statSync(d, { throwIfNoEntry: false })?.nlink === 2) return;
    let entries: string[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const name of entries) walk(join(d, name));
  };
  walk(dir);
  return pids;
}

/** Children first: a cgroup with children cannot be removed. */
function removeTree(dir: string): void {
  try {
    // The usual case: no child cgroups (only a container runtime or the job itself makes some).
    rmdirSync(dir);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
  }
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) removeTree(join(dir, entry.name));
    rmdirSync(dir);
  } catch {
    // still busy: the next sweep tries again
  }
}

export class RunCgroup {
  /** The limits asked for that this machine's cgroups cannot enforce (`computing.memory`, `computing.cpus`). */
  readonly unenforced: string[] = [];

  private constructor(
    readonly layout: Exclude<CgroupLayout, { version: 0 }>,
    /** Every directory of this run's cgroup (one per v1 hierarchy it uses, one for v2). */
    readonly dirs: { freezer: string; pids: string; memory: string | null; cpu: string | null },
    private readonly allHierarchies: boolean,
  ) {}

  /**
   * v1: a run without limits joins only the freezer (stop) and pids (process cap)
   * hierarchies; each hierarchy costs a mkdir, a write at the job's start and an rmdir, and a
   * trivial job's whole run is not much more. `allHierarchies`: a container runtime makes its
   * own cgroup under the run's in every hierarchy, and the run's memory peak is read there.
   */
  static create(
    layout: Exclude<CgroupLayout, { version: 0 }>,
    name: string,
    limits: RunLimits,
    allHierarchies = false,
  ): RunCgroup {
    const dirs =
      layout.version === 2
        ? {
            freezer: join(layout.parent, name),
            pids: join(layout.parent, name),
            memory: join(layout.parent, name),
            cpu: join(layout.parent, name),
          }
        : {
            freezer: join(layout.parents.freezer, name),
            pids: join(layout.parents.pids, name),
            memory: allHierarchies || limits.memoryBytes !== null ? join(layout.parents.memory, name) : null,
            cpu: layout.parents.cpu && (allHierarchies || limits.cpus !== null) ? join(layout.parents.cpu, name) : null,
          };
    for (const dir of new Set(Object.values(dirs).filter((d): d is string => d !== null))) mkdirSync(dir, { recursive: true });
    const group = new RunCgroup(layout, dirs, allHierarchies);
    group.applyLimits(limits);
    return group;
  }

  private applyLimits(limits: RunLimits): void {
    const { dirs, layout } = this;
    if (layout.version === 2) {
      // One directory holds every controller's files.
      if (layout.controllers.pids) writeFileSync(join(dirs.pids, "pids.max"), String(MAX_RUN_PROCESSES));
      if (limits.memoryBytes !== null) {
        if (!layout.controllers.memory) this.unenforced.push("computing.memory");
        else {
          writeFileSync(join(dirs.freezer, "memory.max"), String(limits.memoryBytes));
          tryWrite(join(dirs.freezer, "memory.swap.max"), "0");
        }
      }
      if (limits.cpus !== null) {
        if (!layout.controllers.cpu) this.unenforced.push("computing.cpus");
        else writeFileSync(join(dirs.freezer, "cpu.max"), `${Math.round(limits.cpus * 100_000)} 100000`);
      }
      return;
    }
    writeFileSync(join(dirs.pids, "pids.max"), String(MAX_RUN_PROCESSES));
    if (limits.memoryBytes !== null && dirs.memory) {
      writeFileSync(join(dirs.memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
      // Without this a job over its limit pages out to swap instead of being stopped.
      tryWrite(join(dirs.memory, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
      tryWrite(join(dirs.memory, "memory.swappiness"), "0");
    }
    if (limits.cpus !== null) {
      if (!dirs.cpu) {
        this.unenforced.push("computing.cpus");
        return;
      }
      writeFileSync(join(dirs.cpu, "cpu.cfs_period_us"), "100000");
      writeFileSync(join(dirs.cpu, "cpu.cfs_quota_us"), String(Math.round(limits.cpus * 100_000)));
    }
  }

  /**
   * Calls `spawn` with the agent's own thread in the run's cgroups, so that the process it
   * forks is born there: nothing of the job ever runs outside, and the job needs no gate
   * that waits to be moved in (a shell and a pipe per job). v1 only, where a thread can be
   * moved alone (the agent's other threads stay put), and only for a run in the freezer and
   * pids hierarchies alone: a memory or cpu cgroup would charge the agent's own use to the
   * run. Null when it cannot be done that way (the caller gates the job and moves it in).
   */
  spawnInside<T>(spawn: () => T): T | null {
    const own = this.layout.version === 1 ? this.layout.own : undefined;
    if (!own || this.dirs.memory || this.dirs.cpu) return null;
    // "0" names the writing thread itself (the main thread: a synchronous fs call runs on it).
    // For a pid the kernel takes its global lock against forks and exits (every process on the
    // machine waits, and taking it can wait for an RCU grace period); for itself it needs none.
    const thread = "0";
    try {
      writeFileSync(join(this.dirs.freezer, "tasks"), thread);
      writeFileSync(join(this.dirs.pids, "tasks"), thread);
      return spawn();
    } finally {
      // Back where it was; were this to fail, the run's stop would find the agent there.
      writeFileSync(join(own.freezer, "tasks"), thread);
      writeFileSync(join(own.pids, "tasks"), thread);
    }
  }

  /** Moves `pid` (not yet started on the job: it waits for us) into every hierarchy of the run. */
  join(pid: number): void {
    for (const dir of new Set(Object.values(this.dirs).filter((d): d is string => d !== null))) {
      writeFileSync(join(dir, "cgroup.procs"), String(pid));
    }
  }

  /** Every process of the run, the container runtime's sub-cgroups included. */
  pids(): number[] {
    return pidsIn(this.dirs.freezer);
  }

  isEmpty(): boolean {
    return this.pids().length === 0;
  }

  /** Sends `signal` to every process of the run (they may fork meanwhile: freeze for a kill). */
  signalAll(signal: NodeJS.Signals): void {
    for (const pid of this.pids()) {
      // The agent's own thread passes through a run's cgroup while it starts the job.
      if (pid === process.pid) continue;
      try {
        process.kill(pid, signal);
      } catch {
        // gone already
      }
    }
  }

  /**
   * Freezes the run (nothing can fork or escape), SIGKILLs every process and thaws it so the
   * kills land. Repeated by the caller until the cgroup is empty. True when it found the
   * cgroup empty already (nothing of the run is left, and nothing can appear in it).
   */
  killAll(): boolean {
    if (this.layout.version === 2 && tryWrite(join(this.dirs.freezer, "cgroup.kill"), "1")) return false;
    // Nothing to freeze in an empty cgroup (the usual end of a job that leaves nothing behind);
    // a process it lacks now cannot appear (a process of the run is needed to fork one).
    if (this.isEmpty()) return true;
    const freezeFile = this.layout.version === 2 ? "cgroup.freeze" : "freezer.state";
    const [frozen, thawed] = this.layout.version === 2 ? ["1", "0"] : ["FROZEN", "THAWED"];
    const froze = tryWrite(join(this.dirs.freezer, freezeFile), frozen);
    this.signalAll("SIGKILL");
    if (froze) tryWrite(join(this.dirs.freezer, freezeFile), thawed);
    return false;
  }

  /** How many times the kernel killed a process of the run for memory. */
  oomKills(): number {
    if (!this.dirs.memory) return 0;
    const text =
      this.layout.version === 2
        ? readOr(join(this.dirs.memory, "memory.events"), "")
        : readOr(join(this.dirs.memory, "memory.oom_control"), "");
    const match = /^oom_kill (\d+)$/m.exec(text);
    return match ? Number(match[1]) : 0;
  }

  /** The peak memory use in bytes (for the reason of a run killed for memory). */
  peakBytes(): number | null {
    if (!this.dirs.memory) return null;
    const file = this.layout.version === 2 ? "memory.peak" : "memory.max_usage_in_bytes";
    const value = Number(readOr(join(this.dirs.memory, file), "").trim());
    return Number.isFinite(value) && value > 0 ? value : null;
  }

  remove(): void {
    for (const dir of new Set(Object.values(this.dirs).filter((d): d is string => d !== null))) removeTree(dir);
    // Only a container runtime makes the run's cgroup in the other hierarchies.
    if (this.layout.version === 1 && this.allHierarchies)
      for (const other of this.layout.others) removeTree(join(other, basename(this.dirs.freezer)));
  }

  /** This run's cgroup relative to its hierarchies' roots (v1: the same in all), for `--cgroup-parent`. */
  relativePath(): string | null {
    if (this.layout.version === 1) return join(this.layout.relative, basename(this.dirs.freezer));
    return null;
  }
}

/** Removes the run cgroups an earlier agent of this home left (their processes are killed first). */
export function sweepLeftoverCgroups(layout: CgroupLayout, keep: (name: string) => boolean): void {
  if (layout.version === 0) return;
  const parents =
    layout.version === 2
      ? [layout.parent]
      : [...Object.values(layout.parents).filter((p): p is string => p !== null), ...layout.others];
  for (const parent of parents) {
    let names: string[] = [];
    try {
      names = readdirSync(parent, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      continue;
    }
    for (const name of names) {
      if (keep(name)) continue;
      for (const pid of pidsIn(join(parent, name))) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      removeTree(join(parent, name));
    }
  }
}

/** At agent shutdown: the agent's parent cgroups go when no run is left in them. */
export function removeCgroupParents(layout: CgroupLayout): void {
  if (layout.version === 0) return;
  const parents =
    layout.version === 2
      ? [layout.parent]
      : [...Object.values(layout.parents).filter((p): p is string => p !== null), ...layout.others];
  for (const parent of new Set(parents)) {
    try {
      rmdirSync(parent);
    } catch {
      // runs still there, or never made
    }
  }
}
