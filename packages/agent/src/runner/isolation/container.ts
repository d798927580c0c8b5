/**
 * Jobs whose YAML names a `docker:` image run in it through docker or podman. The agent finds
 * which runtime the machine has (reported to the server, whose matcher places container jobs
 * only where one is) and builds the runtime's command line here. A container job is never run
 * on the host instead.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ContainerSpec } from "@fedml/core/contract";
import type { RunLimits } from "./cgroup.js";

export interface ContainerRuntime {
  /** "podman" or "docker": what the device reports. */
  kind: string;
  /** The command and its global options, e.g. ["podman", "--runtime", "runc"]. */
  command: string[];
}

const execFileAsync = promisify(execFile);

/** Where the job folder appears inside the container. */
export const CONTAINER_JOB_DIR = "/fedml/job";
/** nproc inside the container: the runtime's default (often 1M) may exceed what the agent may grant. */
const CONTAINER_NPROC = 32_768;

/**
 * The runtime from the agent's setting ("none", or a command line such as "podman --runtime
 * runc"), else the first of podman and docker that works: podman needs no daemon (its
 * `--version` is enough, `info` costs a second), docker must answer `info` from its daemon.
 */
export function detectContainerRuntime(setting: string | null): ContainerRuntime | null {
  if (setting === "none") return null;
  const candidates = setting ? [setting.trim().split(/\s+/)] : [["podman"], ["docker"]];
  for (const command of candidates) {
    try {
      const name = command[0].split("/").pop() ?? command[0];
      const kind = name.includes("docker") ? "docker" : "podman";
      execFileSync(command[0], [...command.slice(1), kind === "docker" ? "info" : "--version"], {
        stdio: "ignore",
        timeout: 15_000,
      });
      return { kind, command };
    } catch {
      // not installed or its daemon is down: try the next
    }
  }
  return null;
}

export interface ContainerRunInput {
  runtime: ContainerRuntime;
  spec: ContainerSpec;
  name: string;
  /** The run's job folder on the host (mounted at CONTAINER_JOB_DIR). */
  jobDir: string;
  /** Relative to the job folder: the script to run and the cwd. */
  script: string;
  cwd: string;
  envFile: string;
  user: { uid: number; gid: number } | null;
  limits: RunLimits;
  /** The run cgroup's path in its hierarchy, so the container's processes stay inside it. */
  cgroupParent: string | null;
  /** The job's registry credentials (`registryAuth`), or null. */
  auth: RegistryAuth | null;
}

/** The command line that runs `script` in the image. Pure. */
export function containerRunCommand(input: ContainerRunInput): string[] {
  const { runtime, limits } = input;
  const args = [
    ...runtime.command,
    // A cgroup parent is then a path in each hierarchy, whatever the runtime's default manager.
    ...(input.cgroupParent && runtime.kind === "podman" ? ["--cgroup-manager", "cgroupfs"] : []),
    ...authGlobalArgs(runtime, input.auth),
    "run",
    "--rm",
    "--name",
    input.name,
    "--pull",
    "missing",
    "--volume",
    `${input.jobDir}:${CONTAINER_JOB_DIR}`,
    "--workdir",
    `${CONTAINER_JOB_DIR}/${input.cwd}`,
    "--env-file",
    input.envFile,
    "--ulimit",
    `nproc=${CONTAINER_NPROC}:${CONTAINER_NPROC}`,
    "--ulimit",
    "nofile=4096:4096",
  ];
  if (input.user) args.push("--user", `${input.user.uid}:${input.user.gid}`);
  if (limits.memoryBytes !== null) args.push("--memory", String(limits.memoryBytes));
  if (limits.cpus !== null) args.push("--cpus", String(limits.cpus));
  if (input.cgroupParent) args.push("--cgroup-parent", input.cgroupParent);
  args.push(...authRunArgs(runtime, input.auth));
  for (const port of input.spec.ports) args.push("--publish", `${port}:${port}`);
  args.push(imageRef(input.spec), "bash", `${CONTAINER_JOB_DIR}/${input.script}`);
  return args;
}

/** `registry/image` unless the image already names its registry. Pure. */
export function imageRef(spec: ContainerSpec): string {
  if (!spec.registry || spec.image.startsWith(`${spec.registry}/`)) return spec.image;
  return `${spec.registry.replace(/\/+$/, "")}/${spec.image}`;
}

/** Where a run's registry credentials are, in the form its runtime reads. */
export interface RegistryAuth {
  /** podman: the auth file (`--authfile`); docker: the config folder (`--config`) holding config.json. */
  path: string;
  /** What to remove when the run ends. */
  remove: string;
}

/**
 * Writes the job's registry credentials where only the agent can read them (0600 in a 0700
 * folder of the agent's home), in the runtime's own auth format: no `login` runs, so neither
 * the user name nor the password is ever in a command line (`ps`), and none of it reaches
 * the job's environment. Null when the job names no credentials.
 */
export function writeRegistryAuth(runtime: ContainerRuntime, spec: ContainerSpec, dir: string): RegistryAuth | null {
  if (!spec.username || !spec.password) return null;
  const registry = registryOf(spec);
  const auths = { auths: { [registry]: { auth: Buffer.from(`${spec.username}:${spec.password}`).toString("base64") } } };
  const folder = join(dir, "registry-auth");
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const file = join(folder, runtime.kind === "docker" ? "config.json" : "auth.json");
  writeFileSync(file, JSON.stringify(auths), { mode: 0o600 });
  return { path: runtime.kind === "docker" ? folder : file, remove: folder };
}

export function removeRegistryAuth(auth: RegistryAuth | null): void {
  if (auth) rmSync(auth.remove, { recursive: true, force: true });
}

/** The registry host an image comes from: `docker.registry`, else the image's first part. Pure. */
export function registryOf(spec: ContainerSpec): string {
  return spec.registry?.replace(/\/+$/, "") ?? imageRef(spec).split("/")[0];
}

/** docker reads credentials from a config folder named before the command. */
function authGlobalArgs(runtime: ContainerRuntime, auth: RegistryAuth | null): string[] {
  return auth && runtime.kind === "docker" ? ["--config", auth.path] : [];
}

function authRunArgs(runtime: ContainerRuntime, auth: RegistryAuth | null): string[] {
  return auth && runtime.kind === "podman" ? ["--authfile", auth.path] : [];
}

/**
 * Pulls the job's image unless the machine has it, with the job's credentials, before the
 * job starts: a refused pull (wrong password, no such image) then fails the run with the
 * registry's own reason instead of a bare exit code. Answers that reason, or null.
 */
export async function pullImage(
  runtime: ContainerRuntime,
  spec: ContainerSpec,
  auth: RegistryAuth | null,
): Promise<string | null> {
  const image = imageRef(spec);
  const [bin, ...global] = [...runtime.command, ...authGlobalArgs(runtime, auth)];
  const exists = runtime.kind === "docker" ? ["image", "inspect", image] : ["image", "exists", image];
  try {
    await execFileAsync(bin, [...global, ...exists], { timeout: 30_000 });
    return null;
  } catch {
    // not here yet: pull it
  }
  try {
    await execFileAsync(bin, [...global, "pull", ...authRunArgs(runtime, auth), image], { timeout: 600_000 });
    return null;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
    const last = stderr.split("\n").filter(Boolean).at(-1) ?? (error as Error).message;
    return `pulling image ${image}${auth ? ` with the job's registry credentials` : ""} failed: ${last.slice(0, 500)}`;
  }
}

/** Removes the run's container if it is still there (a stop, or an agent that died meanwhile). */
export function removeContainer(runtime: ContainerRuntime, name: string): void {
  try {
    execFileSync(runtime.command[0], [...runtime.command.slice(1), "rm", "--force", name], { stdio: "ignore", timeout: 30_000 });
  } catch {
    // already gone
  }
}
