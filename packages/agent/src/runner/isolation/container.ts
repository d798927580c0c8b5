/**
 * Jobs whose YAML names a `docker:` image run in it through docker or podman. The agent finds
 * which runtime the machine has (reported to the server, whose matcher places container jobs
 * only where one is) and builds the runtime's command line here. A container job is never run
 * on the host instead.
 */
import { execFileSync } from "node:child_process";
import type { ContainerSpec } from "@fedml/core/contract";
import type { RunLimits } from "./cgroup.js";

export interface ContainerRuntime {
  /** "podman" or "docker": what the device reports. */
  kind: string;
  /** The command and its global options, e.g. ["podman", "--runtime", "runc"]. */
  command: string[];
}

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
  authFile: string | null;
}

/** The command line that runs `script` in the image. Pure. */
export function containerRunCommand(input: ContainerRunInput): string[] {
  const { runtime, limits } = input;
  const args = [
    ...runtime.command,
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
  if (input.authFile && runtime.kind === "podman") args.push("--authfile", input.authFile);
  for (const port of input.spec.ports) args.push("--publish", `${port}:${port}`);
  args.push(imageRef(input.spec), "bash", `${CONTAINER_JOB_DIR}/${input.script}`);
  return args;
}

/** `registry/image` unless the image already names its registry. Pure. */
export function imageRef(spec: ContainerSpec): string {
  if (!spec.registry || spec.image.startsWith(`${spec.registry}/`)) return spec.image;
  return `${spec.registry.replace(/\/+$/, "")}/${spec.image}`;
}

/** Logs in to the image's registry with the job's credentials (the password goes on stdin, not argv). */
export function registryLogin(runtime: ContainerRuntime, spec: ContainerSpec, authFile: string): void {
  if (!spec.username || !spec.password) return;
  const registry = spec.registry ?? imageRef(spec).split("/")[0];
  const args = [...runtime.command.slice(1), "login", "--username", spec.username, "--password-stdin"];
  if (runtime.kind === "podman") args.push("--authfile", authFile);
  execFileSync(runtime.command[0], [...args, registry], {
    input: spec.password,
    stdio: ["pipe", "ignore", "pipe"],
    timeout: 60_000,
  });
}

/** Removes the run's container if it is still there (a stop, or an agent that died meanwhile). */
export function removeContainer(runtime: ContainerRuntime, name: string): void {
  try {
    execFileSync(runtime.command[0], [...runtime.command.slice(1), "rm", "--force", name], { stdio: "ignore", timeout: 30_000 });
  } catch {
    // already gone
  }
}
