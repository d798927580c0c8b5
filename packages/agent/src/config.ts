/**
 * The agent home and its `agent.json`. Every function takes the home explicitly so that
 * several agents (tests, the embedded local agent) can live side by side on one machine.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { FedmlError, ResultCode } from "@fedml/core/contract";
import type { SlurmSettings } from "./slurm/settings.js";

export interface AgentConfig {
  /** One URL, or several replicas' of one server separated by commas. */
  serverUrl: string;
  deviceId: string;
  deviceToken: string;
  name: string;
  provider: string;
  region: string;
  pricePerGpuHour: number;
  shared: boolean;
  /** TYPE:COUNT[:MEM_GB] when the agent pretends to have GPUs. */
  simulateGpus: string | null;
  /** Null: the machine's CPU count. */
  maxJobs: number | null;
  /** Null: the first non-internal IPv4 address. */
  address: string | null;
  /** "pool": jobs run as users of their own when the agent is root; "agent": as the agent's user. */
  jobUser?: "pool" | "agent";
  /** Where run folders go; null: the default (docs/isolation.md). */
  jobsDir?: string | null;
  /** A container runtime command line ("podman --runtime runc"), "none", or null to detect one. */
  containerRuntime?: string | null;
  /** A cgroup v2 directory for the runs' cgroups; null: found from the agent's own cgroups. */
  cgroupRoot?: string | null;
  /** How long the folder of a FAILED run is kept for debugging. */
  keepFailedRunsMs?: number;
  /** Bound of the workspace cache (`cache/`), least recently used archives evicted first. */
  cacheMaxBytes?: number;
  /** Bound with --slurm: the device is a Slurm partition and run parts are its batch jobs. */
  slurm?: SlurmSettings | null;
}

export const DEFAULT_KEEP_FAILED_RUNS_MS = 24 * 3600_000;
export const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;

export function defaultAgentHome(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.FEDML_HOME || join(homedir(), ".fedml"), "agent");
}

export const agentPaths = (home: string) => ({
  config: join(home, "agent.json"),
  pidFile: join(home, "agent.pid"),
  log: join(home, "agent.log"),
  runs: join(home, "runs"),
  cache: join(home, "cache"),
});

/** Null when the home has no binding; throws when agent.json is unreadable. */
export function readAgentConfig(home: string): AgentConfig | null {
  const file = agentPaths(home).config;
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new FedmlError(ResultCode.ERROR, `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const c = parsed as Partial<AgentConfig>;
  if (typeof c.serverUrl !== "string" || typeof c.deviceToken !== "string" || c.deviceId === undefined) {
    throw new FedmlError(ResultCode.ERROR, `${file} lacks serverUrl, deviceId or deviceToken; bind the device again`);
  }
  return {
    serverUrl: c.serverUrl,
    deviceId: String(c.deviceId),
    deviceToken: c.deviceToken,
    name: c.name ?? "",
    provider: c.provider ?? "",
    region: c.region ?? "",
    pricePerGpuHour: c.pricePerGpuHour ?? 0,
    shared: c.shared ?? false,
    simulateGpus: c.simulateGpus ?? null,
    maxJobs: c.maxJobs ?? null,
    address: c.address ?? null,
    jobUser: c.jobUser === "agent" ? "agent" : "pool",
    jobsDir: c.jobsDir ?? null,
    containerRuntime: c.containerRuntime ?? null,
    cgroupRoot: c.cgroupRoot ?? null,
    keepFailedRunsMs: c.keepFailedRunsMs ?? DEFAULT_KEEP_FAILED_RUNS_MS,
    cacheMaxBytes: c.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES,
    slurm: c.slurm ?? null,
  };
}

/** The file holds the device token, so only its owner may read it (0600, also on overwrite). */
export function writeAgentConfig(home: string, config: AgentConfig): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = agentPaths(home).config;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function removeAgentConfig(home: string): void {
  rmSync(agentPaths(home).config, { force: true });
}
