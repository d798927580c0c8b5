/**
 * Pure readers of Slurm's command output (22.05 and later): `scontrol show node -o` and
 * `scontrol show job -o` (one record a line, Key=Value pairs), and `squeue -O` with the
 * field list of SQUEUE_FIELDS, each field ended by "|".
 */

/** One `scontrol ... -o` line as its Key=Value pairs. Values may hold spaces (OS=Linux 6.1 #1 SMP). */
export function parseScontrolRecord(line: string): Map<string, string> {
  const record = new Map<string, string>();
  // A key starts a word and runs to "="; everything up to the next key is its value.
  const key = /(?:^|\s)([A-Za-z][A-Za-z0-9_/:.]*)=/g;
  const starts: { name: string; valueStart: number; keyStart: number }[] = [];
  for (let m = key.exec(line); m !== null; m = key.exec(line)) {
    starts.push({ name: m[1], keyStart: m.index, valueStart: m.index + m[0].length });
  }
  for (let i = 0; i < starts.length; i++) {
    const end = i + 1 < starts.length ? starts[i + 1].keyStart : line.length;
    record.set(starts[i].name, line.slice(starts[i].valueStart, end).trim());
  }
  return record;
}

export function parseScontrolRecords(text: string): Map<string, string>[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("No "))
    .map(parseScontrolRecord);
}

/** One kind of GPU on a node: `gpu:a100:4` or `gpu:4` (no type). */
export interface GresGpu {
  type: string | null;
  count: number;
}

/**
 * The GPUs of a gres string: `gpu:a100:4(S:0-1),gpu:v100:2,shard:8`. Other gres (shards,
 * MPS, licences) are not GPUs of their own and are left out.
 */
export function parseGresGpus(gres: string | undefined): GresGpu[] {
  if (!gres || gres === "(null)") return [];
  const out: GresGpu[] = [];
  // Commas inside "(S:0-1,3)" are not separators.
  for (const item of gres.split(/,(?![^(]*\))/)) {
    const bare = item.replace(/\(.*\)$/, "").trim();
    const parts = bare.split(":");
    if (parts[0] !== "gpu") continue;
    const count = Number(parts[parts.length - 1]);
    if (!Number.isInteger(count) || parts.length < 2) continue;
    out.push({ type: parts.length >= 3 ? parts[1] : null, count });
  }
  return out;
}

export interface SlurmNode {
  name: string;
  /** Slurm's state words, lower case: "idle", "mixed", "allocated", "down+drain", ... */
  state: string;
  partitions: string[];
  gpus: GresGpu[];
  cpus: number;
  memoryMb: number;
  /** Why a node is down or drained, as the admin wrote it; null when none. */
  reason: string | null;
}

export function parseNodes(text: string): SlurmNode[] {
  return parseScontrolRecords(text)
    .filter((r) => r.has("NodeName"))
    .map((r) => ({
      name: r.get("NodeName") ?? "",
      state: (r.get("State") ?? "unknown").toLowerCase(),
      partitions: (r.get("Partitions") ?? "").split(",").filter((p) => p !== ""),
      gpus: parseGresGpus(r.get("Gres")),
      cpus: Number(r.get("CPUTot") ?? 0) || 0,
      memoryMb: Number(r.get("RealMemory") ?? 0) || 0,
      reason: nullIfEmpty(r.get("Reason")),
    }));
}

/** States in which a node takes no new jobs (any of them in a compound state like "idle+drain"). */
const UNUSABLE = ["down", "drain", "drained", "draining", "fail", "failing", "future", "maint", "not_responding", "unknown"];

export function nodeUsable(node: SlurmNode): boolean {
  return !node.state.split(/[+*~#!%$@^-]/).some((word) => UNUSABLE.includes(word));
}

/** The squeue fields we read, in order (`squeue -O`, each ended by "|"). */
export const SQUEUE_FIELDS = [
  "JobID",
  "State",
  "Reason",
  "NodeList",
  "exit_code",
  "tres-per-node",
  "UserName",
  "NumNodes",
  "Partition",
];
export const SQUEUE_FORMAT = SQUEUE_FIELDS.map((f) => `${f}:|`).join(",");

export interface SlurmJob {
  jobId: string;
  /** PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, ... */
  state: string;
  /** Why it waits or ended ("Resources", "Priority", "NonZeroExitCode"); null for "None". */
  reason: string | null;
  nodes: string | null;
  /** The batch script's wait status as the kernel gives it (exit code << 8 | signal). */
  waitStatus: number;
  gpusPerNode: number;
  user: string;
  numNodes: number;
  partition: string;
}

export function parseSqueue(text: string): SlurmJob[] {
  const jobs: SlurmJob[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const f = line.split("|").map((s) => s.trim());
    if (f.length < SQUEUE_FIELDS.length) continue;
    jobs.push({
      jobId: f[0],
      state: f[1].toUpperCase(),
      reason: f[2] === "None" || f[2] === "" ? null : f[2],
      nodes: nullIfEmpty(f[3]),
      waitStatus: Number(f[4]) || 0,
      gpusPerNode: gpusOfTres(f[5]),
      user: f[6],
      numNodes: Number(f[7]) || 0,
      partition: f[8],
    });
  }
  return jobs;
}

/** `gres:gpu:2`, `gres/gpu:a100=2`, `gres:gpu:a100:2,gres:shard:1` -> 2. */
export function gpusOfTres(tres: string): number {
  let total = 0;
  for (const item of tres.split(",")) {
    const m = /^(?:gres[:/])?gpu(?::[^:=]+)?[:=](\d+)$/.exec(item.trim());
    if (m) total += Number(m[1]);
  }
  return total;
}

/** `scontrol show job -o ID`: what squeue says, for a job squeue no longer lists. */
export function parseJobRecord(text: string): SlurmJob | null {
  const r = parseScontrolRecords(text).find((rec) => rec.has("JobId"));
  if (!r) return null;
  const [code, signal] = (r.get("ExitCode") ?? "0:0").split(":").map((n) => Number(n) || 0);
  const reason = r.get("Reason") ?? "None";
  return {
    jobId: r.get("JobId") ?? "",
    state: (r.get("JobState") ?? "UNKNOWN").toUpperCase(),
    reason: reason === "None" ? null : reason,
    nodes: nullIfEmpty(r.get("NodeList")),
    waitStatus: (code << 8) | signal,
    gpusPerNode: gpusOfTres(r.get("TresPerNode") ?? ""),
    user: (r.get("UserId") ?? "").replace(/\(.*\)$/, ""),
    numNodes: Number((r.get("NumNodes") ?? "0").split("-")[0]) || 0,
    partition: r.get("Partition") ?? "",
  };
}

/** `sbatch --parsable` answers `ID` or `ID;CLUSTER`. */
export function parseSbatchJobId(stdout: string): string {
  const id = stdout.trim().split("\n").pop()?.split(";")[0]?.trim() ?? "";
  if (!/^\d+$/.test(id)) throw new Error(`sbatch answered no job id: ${JSON.stringify(stdout.trim())}`);
  return id;
}

function nullIfEmpty(value: string | undefined): string | null {
  return value === undefined || value === "" || value === "(null)" || value === "none" ? null : value;
}
