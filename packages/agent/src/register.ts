/** Binding this machine to a server as a device, and undoing it. */
import {
  FedmlError,
  Paths,
  type RegisterRequest,
  type RegisterResponse,
  ResultCode,
  parseServerUrls,
} from "@fedml/core/contract";
import { type AgentConfig, readAgentConfig, removeAgentConfig, writeAgentConfig } from "./config.js";
import { type DetectOptions, detectFacts } from "./facts/index.js";
import { parseSimulatedGpus } from "./facts/simulated-gpus.js";
import { requestOnce } from "./http-once.js";
import { isRoot } from "./runner/isolation/job-user.js";
import { SlurmBackend } from "./slurm/backend.js";
import type { SlurmSettings } from "./slurm/settings.js";

export interface RegisterDeviceOptions {
  home: string;
  serverUrl: string;
  /** The binding user's API key (only the device token is stored, never this). */
  apiKey: string;
  name?: string;
  provider?: string;
  region?: string;
  pricePerGpuHour?: number;
  shared?: boolean;
  simulateGpus?: string | null;
  maxJobs?: number | null;
  address?: string | null;
  /** "agent": jobs run as the agent's own user even when it is root (a single-user machine). */
  jobUser?: "pool" | "agent";
  jobsDir?: string | null;
  containerRuntime?: string | null;
  cgroupRoot?: string | null;
  keepFailedRunsMs?: number;
  cacheMaxBytes?: number;
  /** Shares the device although its jobs would run as the agent's own user. */
  allowSharedWithoutIsolation?: boolean;
  detect?: DetectOptions;
  /** The device is a Slurm partition: run parts become its batch jobs (docs/slurm.md). */
  slurm?: SlurmSettings | null;
}

/**
 * Whether jobs get users of their own, and the refusal of `--shared` when they do not: a
 * stranger's job would run as the owner and read what the owner can.
 */
export function jobUserNotice(
  options: Pick<RegisterDeviceOptions, "jobUser" | "shared" | "allowSharedWithoutIsolation">,
): string {
  const root = isRoot();
  const own = !root || options.jobUser === "agent";
  if (own && options.shared && !options.allowSharedWithoutIsolation) {
    throw new FedmlError(
      ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS,
      `--shared refused: jobs on this device would run as the agent's own user (${root ? "--job-user agent" : "the agent is not root"}), so other users' jobs could read its files; run the agent as root, or pass --allow-shared-without-isolation`,
    );
  }
  return own
    ? `jobs will run as this agent's own user (${root ? "as asked" : "it is not root"}): they can read and write what it can`
    : "jobs will run as unprivileged users of their own, one per live run";
}

function previousBinding(home: string): AgentConfig | null {
  try {
    return readAgentConfig(home);
  } catch {
    return null;
  }
}

export async function registerDevice(options: RegisterDeviceOptions): Promise<{ deviceId: string; notice: string }> {
  let serverUrl: string;
  try {
    serverUrl = parseServerUrls(options.serverUrl).join(",");
  } catch (err) {
    throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `--server: ${(err as Error).message}`);
  }
  if (serverUrl === "") throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, "--server names no URL");
  // A typo in --simulate-gpus must fail here, not in a daemon nobody watches.
  if (options.simulateGpus) parseSimulatedGpus(options.simulateGpus);
  // Slurm runs jobs as the user who submits them: the agent's own.
  const notice = options.slurm
    ? jobUserNotice({ ...options, jobUser: "agent" }).replace(
        /^jobs will run as this agent's own user \([^)]*\)/,
        "Slurm jobs will run as this agent's own user",
      )
    : jobUserNotice(options);
  const settings = {
    name: options.name ?? "",
    provider: options.provider ?? "",
    region: options.region ?? "",
    pricePerGpuHour: options.pricePerGpuHour ?? 0,
    shared: options.shared ?? false,
    simulateGpus: options.simulateGpus || null,
    maxJobs: options.maxJobs ?? null,
    address: options.address ?? null,
    jobUser: options.jobUser ?? "pool",
    jobsDir: options.jobsDir ?? null,
    containerRuntime: options.containerRuntime ?? null,
    cgroupRoot: options.cgroupRoot ?? null,
    ...(options.keepFailedRunsMs === undefined ? {} : { keepFailedRunsMs: options.keepFailedRunsMs }),
    ...(options.cacheMaxBytes === undefined ? {} : { cacheMaxBytes: options.cacheMaxBytes }),
    ...(options.slurm ? { slurm: options.slurm, jobUser: "agent" as const } : {}),
  };
  const facts = options.slurm
    ? await slurmFacts(options.home, options.slurm, settings)
    : await detectFacts(settings, options.detect);
  const previous = previousBinding(options.home);
  const body: RegisterRequest = { facts, previousDeviceId: previous?.deviceId ?? null };
  const answer = await requestOnce<RegisterResponse>(serverUrl, options.apiKey, "POST", Paths.agentRegister, body);
  const deviceId = String(answer.deviceId);
  writeAgentConfig(options.home, { serverUrl, deviceId, deviceToken: answer.deviceToken, ...settings, name: facts.name });
  return { deviceId, notice };
}

async function slurmFacts(home: string, slurm: SlurmSettings, settings: Parameters<SlurmBackend["facts"]>[0]) {
  const backend = new SlurmBackend(home, slurm);
  try {
    const facts = await backend.facts(settings);
    const partition = slurm.partition ?? "the default partition";
    if (backend.lastShape?.nodes.length === 0) {
      throw new FedmlError(ResultCode.RESOURCE_MATCHED_STATUS_INVALID_PARAMS, `--partition: Slurm has no node in ${partition}`);
    }
    return facts;
  } catch (error) {
    if (error instanceof FedmlError) throw error;
    throw new FedmlError(ResultCode.ERROR, `--slurm: cannot read the cluster: ${(error as Error).message}`);
  } finally {
    backend.close();
  }
}

export interface UnregisterResult {
  /** False when there was no binding in the home. */
  unbound: boolean;
  deviceId: string | null;
  /** Why the server could not be told (the local binding is removed anyway). */
  serverError: string | null;
}

/** Removes the binding; the server is told when it can be reached. Stop the daemon first. */
export async function unregisterDevice(home: string): Promise<UnregisterResult> {
  const config = readAgentConfig(home);
  if (!config) return { unbound: false, deviceId: null, serverError: null };
  let serverError: string | null = null;
  try {
    await requestOnce(config.serverUrl, config.deviceToken, "POST", Paths.agentUnregister, {});
  } catch (error) {
    serverError = (error as Error).message;
  }
  removeAgentConfig(home);
  return { unbound: true, deviceId: config.deviceId, serverError };
}
